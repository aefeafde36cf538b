import {
  type ArgumentMetadata,
  applyDecorators,
  type ValidationError,
  ValidationPipe,
} from '@nestjs/common';
import { ApiProperty, type ApiPropertyOptions } from '@nestjs/swagger';
import { plainToInstance } from 'class-transformer';
import { IsUUID, ValidateBy, ValidationOptions, validateSync } from 'class-validator';
import { isHoldableInstant } from '../database/instants.js';
import { compiledValidator } from './compiled-validation.js';
import { codePointLength } from './text.js';
import { ApiError, type ErrorDetail } from './api-error.js';

/** For @Transform: a string of digits (query string, environment) becomes a number; else as is. */
export const toInt = ({ value }: { value: unknown }): unknown =>
  typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value) : value;

/** For @Transform: "true" or "false" becomes a boolean; else as is. */
export const toBoolean = ({ value }: { value: unknown }): unknown =>
  value === 'true' ? true : value === 'false' ? false : value;

/** uuid of any version; Assay also accepts ids minted by other systems. */
export const UUID_VERSION = 'all';

function flatten(errors: ValidationError[], prefix = ''): ErrorDetail[] {
  return errors.flatMap((e) => {
    const field = prefix ? `${prefix}.${e.property}` : e.property;
    // Several constraints of a field may say the same thing (limit: IsInt, Min, Max): once.
    const own = [...new Set(Object.values(e.constraints ?? {}))].map((message) => ({
      field,
      message,
    }));
    return [...own, ...flatten(e.children ?? [], field)];
  });
}

/**
 * Refuses a JSON body that is not an object (null, an array, a number) before validation.
 * A body its DTO's compiled rules accept is taken at once (see compiledValidator): the same
 * instance as the pipe's, and any refusal still comes from class-validator itself.
 */
class BodyValidationPipe extends ValidationPipe {
  override transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (metadata.type === 'body' && value !== undefined) {
      if (value === null || typeof value !== 'object' || Array.isArray(value)) {
        throw new ApiError('validation_failed', 'The request body must be a JSON object.');
      }
      const type = metadata.metatype as (new () => object) | undefined;
      const accepted = type && compiledValidator(type)?.(value);
      if (accepted) return Promise.resolve(accepted);
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
  const accepted = compiledValidator(type)?.(value);
  if (accepted) return { value: accepted };
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

/**
 * A string of min to max characters, counted as PostgreSQL counts them (code points), so that
 * what passes here always fits its column. Use it instead of class-validator's Length.
 */
export function Characters(min: number, max: number): PropertyDecorator {
  return ValidateBy({
    name: 'characters',
    constraints: [min, max],
    validator: {
      validate: (value: unknown) =>
        typeof value === 'string' && codePointLength(value) >= min && codePointLength(value) <= max,
      defaultMessage: (args) =>
        min > 0
          ? `${args?.property} must be ${min} to ${max} characters long`
          : `${args?.property} must be at most ${max} characters long`,
    },
  });
}

/**
 * Text that is an instant JavaScript reads (validator.js lets through ISO 8601 dates such as
 * `-9999-01-01` that it does not) and PostgreSQL holds once in UTC: 4714-11-24 BC to
 * 294276 AD. Used beside the format's own validator, which words the other refusals.
 */
export function HoldableInstant(): PropertyDecorator {
  return ValidateBy({
    name: 'holdableInstant',
    validator: {
      validate: (value: unknown) => typeof value !== 'string' || isHoldableInstant(new Date(value)),
      defaultMessage: (args) =>
        `${args?.property} is not an instant the database can hold (4714-11-24 BC to 294276 AD, in UTC)`,
    },
  });
}

/**
 * A PATCH leaves out what it keeps: a field that cannot be empty, sent as null, is a 400
 * rather than read as "unchanged" or stored as nothing.
 */
export function refuseNulls<T extends object>(dto: T, fields: readonly (keyof T & string)[]): void {
  for (const field of fields) {
    if (dto[field] === null) {
      throw new ApiError('validation_failed', `${field} cannot be null; leave it out to keep it.`, [
        { field, message: `${field} cannot be null` },
      ]);
    }
  }
}
