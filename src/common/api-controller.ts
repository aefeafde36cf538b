import {
  applyDecorators,
  Controller,
  RequestMethod,
  UseFilters,
  UseGuards,
  UseInterceptors,
  UsePipes,
} from '@nestjs/common';
import { METHOD_METADATA } from '@nestjs/common/constants.js';
import { JwtAuthGuard } from '../auth/jwt-auth.guard.js';
import { ApiBearer } from '../openapi/decorators.js';
import { WriteInterceptor } from '../writes/write.interceptor.js';
import { AllExceptionsFilter } from './all-exceptions.filter.js';
import { createValidationPipe } from './validation.js';

/**
 * Puts the write interceptor on the routes that need it: every write. Reads go without
 * (their ETags: conditionalGet): an interceptor wraps a route in rxjs observables, which
 * cost a GET some tens of µs of CPU for nothing.
 */
const InterceptWrites = (): ClassDecorator => (controller) => {
  const prototype = controller.prototype as Record<string, unknown>;
  for (const name of Object.getOwnPropertyNames(prototype)) {
    const route = Object.getOwnPropertyDescriptor(prototype, name)?.value as object | undefined;
    const method = route && (Reflect.getMetadata(METHOD_METADATA, route) as unknown);
    if (!route || method === undefined) continue; // not a route
    if (method === RequestMethod.GET || method === RequestMethod.HEAD) continue;
    UseInterceptors(WriteInterceptor)(prototype, name, { value: route });
  }
};

/**
 * An Assay resource controller: bearer auth enforced and documented, bodies and queries
 * validated, every write through the write pipeline, errors in the one error body. Carried by the controller itself, so that it
 * holds inside another Nest app that imports Assay's modules as well as in Assay's own.
 */
export const ApiController = (prefix: string): ClassDecorator =>
  applyDecorators(
    Controller(prefix),
    UseGuards(JwtAuthGuard),
    UsePipes(createValidationPipe()),
    InterceptWrites(),
    UseFilters(AllExceptionsFilter),
    ApiBearer(),
  );
