import { SetMetadata } from '@nestjs/common';

export const ETAGGED = 'assay:etagged';

/**
 * The route answers one resource: with its strong ETag, and for GET with 304 when
 * If-None-Match names it.
 */
export const ETagged = (): MethodDecorator => SetMetadata(ETAGGED, true);
