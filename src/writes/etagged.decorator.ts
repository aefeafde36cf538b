import { applyDecorators, SetMetadata } from '@nestjs/common';
import { ApiNotModified } from '../openapi/decorators.js';

export const ETAGGED = 'assay:etagged';

/**
 * The route answers one resource: with its strong ETag, and for GET with 304 when
 * If-None-Match names it.
 */
export const ETagged = (): MethodDecorator => SetMetadata(ETAGGED, true);

/** A GET of one resource: ETagged, and its If-None-Match and 304 documented. */
export const ETaggedRead = (): MethodDecorator => applyDecorators(ETagged(), ApiNotModified());
