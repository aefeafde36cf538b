import {
  type ArgumentMetadata,
  applyDecorators,
  type ValidationError,
  ValidationPipe,
} from '@nestjs/common';
import { ApiProperty, type ApiPropertyOptions } from '@nestjs/swagger';
import { plainToInstance } from 'class-transformer';
import { IsUUID, ValidationOptions, validateSync } from 'class-validator';
import { ApiError, type ErrorDetail } from './api-error.js';

/** For @Transform: a string of digits (query string, environment) becomes a number; else as is. */
export const toInt = ({ value }: { value: unknown }): unknown =>
  typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value) : value;

/** uuid of any version; Assay also accepts ids minted by other systems. */
export const UUID_VERSION = 'all';

function flatten(errors: ValidationError[], prefix = ''): ErrorDetail[] {
  return errors.flatMap((e) => {
    const field = prefix ? `${prefix}.${e.property}` : e.property;
    const own = Object.values(e.constraints ?? {}).map((message) => ({ field, message }));
    return [...own, ...flatten(e.children ?? [], field)];
  });
}

/** Refuses a JSON body that is not an object (null, an array, a number) before validation. */
class BodyValidationPipe extends ValidationPipe {
  override transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (
      metadata.type === 'body' &&
      value !== undefined &&
      (value === null || typeof value !== 'object' || Array.isArray(value))
    ) {
      throw new ApiError('validation_failed', 'The request body must be a JSON object.');
    }
    return super.transform(value, metadata);
  }
}

const VALIDATOR_OPTIONS = {
  whitelist: true,
  forbidNonWhitelisted: true,
  forbidUnknownValues: true,
  validationError: { target: false, value: false },
};

/**
 * Validates one JSON value against a DTO class as the pipe validates bodies: the value as
 * an instance when it is valid, else what is wrong with it, field by field.
 */
export function validateValue<T extends object>(
  type: new () => T,
  value: unknown,
): { value: T } | { problems: ErrorDetail[] } {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return { problems: [{ field: '', message: 'must be a JSON object' }] };
  }
  const instance = plainToInstance(type, value, { enableImplicitConversion: false });
  const errors = validateSync(instance, VALIDATOR_OPTIONS);
  return errors.length ? { problems: flatten(errors) } : { value: instance };
}

/** The global ValidationPipe: unknown fields and wrong types are a 400 with per-field details. */
export function createValidationPipe(): ValidationPipe {
  return new BodyValidationPipe({
    ...VALIDATOR_OPTIONS,
    transform: true,
    transformOptions: { enableImplicitConversion: false },
    exceptionFactory: (errors) => {
      const details = flatten(errors);
      const summary = details
        .slice(0, 3)
        .map((d) => d.message)
        .join('; ');
      return new ApiError(
        'validation_failed',
        details.length ? `Invalid request: ${summary}.` : 'Invalid request.',
        details,
      );
    },
  });
}

/** A uuid field: validated and documented as `format: uuid` in one place. */
export function UuidProperty(
  options: ApiPropertyOptions = {},
  validation?: ValidationOptions,
): PropertyDecorator {
  return applyDecorators(
    IsUUID(UUID_VERSION, { message: '$property must be a UUID', ...validation }),
    ApiProperty({ type: String, format: 'uuid', ...options }),
  );
}
