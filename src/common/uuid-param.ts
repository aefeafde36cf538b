import { Param, type PipeTransform } from '@nestjs/common';
import { ApiParam } from '@nestjs/swagger';
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

/**
 * A uuid path parameter, the ID of a `what`; anything else is a 400 naming the parameter.
 * Validated and documented (`format: uuid`) in one place.
 */
export const UuidParam =
  (name: string, what: string): ParameterDecorator =>
  (target, key, index) => {
    Param(name, new ParseUuid(name))(target, key, index);
    const method = Object.getOwnPropertyDescriptor(target, key!)!;
    ApiParam({ name, format: 'uuid', type: String, description: `The ID of the ${what}` })(
      target,
      key!,
      method,
    );
  };
