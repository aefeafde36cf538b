import { Param, type PipeTransform } from '@nestjs/common';
import { isUUID } from 'class-validator';
import { ApiError } from './api-error.js';
import { UUID_VERSION } from './validation.js';

class ParseUuid implements PipeTransform<string, string> {
  constructor(private readonly name: string) {}

  transform(value: string): string {
    if (!isUUID(value, UUID_VERSION)) {
      throw new ApiError(
        'invalid_path_parameter',
        `The path parameter ${this.name} must be a UUID, got "${value.slice(0, 64)}".`,
      );
    }
    return value.toLowerCase();
  }
}

/** A uuid path parameter; anything else is a 400 naming the parameter. */
export const UuidParam = (name: string): ParameterDecorator => Param(name, new ParseUuid(name));
