import { applyDecorators, SetMetadata } from '@nestjs/common';
import { RouteConfig } from '@nestjs/platform-fastify';
import { ApiNotModified } from '../openapi/decorators.js';
import { ETAG_READ } from './conditional-get.js';

export const ETAGGED = 'assay:etagged';

/** The write answers one resource, with its strong ETag (If-Match is checked against it). */
export const ETagged = (): MethodDecorator => SetMetadata(ETAGGED, true);

/**
 * A GET of one resource: its ETag, and 304 when If-None-Match names it (conditionalGet);
 * the If-None-Match and the 304 documented.
 */
export const ETaggedRead = (): MethodDecorator =>
  applyDecorators(RouteConfig({ [ETAG_READ]: true }), ApiNotModified());
