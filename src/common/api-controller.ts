import {
  applyDecorators,
  Controller,
  UseFilters,
  UseGuards,
  UseInterceptors,
  UsePipes,
} from '@nestjs/common';
import { JwtAuthGuard } from '../auth/jwt-auth.guard.js';
import { ApiBearer } from '../openapi/decorators.js';
import { WriteInterceptor } from '../writes/write.interceptor.js';
import { AllExceptionsFilter } from './all-exceptions.filter.js';
import { createValidationPipe } from './validation.js';

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
    UseInterceptors(WriteInterceptor),
    UseFilters(AllExceptionsFilter),
    ApiBearer(),
  );
