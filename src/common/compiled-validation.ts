// class-transformer keeps its decorators' metadata here; it exports no other way to read it.
import { defaultMetadataStorage } from 'class-transformer/cjs/storage.js';
import { TransformationType } from 'class-transformer';
import { getMetadataStorage, ValidationTypes } from 'class-validator';

type ValidationMetadata = ReturnType<
  ReturnType<typeof getMetadataStorage>['getTargetValidationMetadatas']
>[number];

interface Rule {
  /** class-validator's own check, as it calls it. */
  check: (value: unknown, args: object) => unknown;
  metadata: ValidationMetadata;
}

interface Property {
  name: string;
  /** @ValidateNested with @Type: its value is made of instances of that DTO, each or one. */
  nested?: { accept: Acceptor<object>; each: boolean };
  /** A rule of it checks each element of an array (`each`): it may hold a JSON array. */
  listed: boolean;
  /** The conditions (IsOptional, ValidateIf) under which the rules apply. */
  conditions: ((object: object, value: unknown) => boolean)[];
  rules: Rule[];
}

/** Accepts a plain JSON object as an instance of its DTO, or answers undefined: ask class-validator. */
export type Acceptor<T> = (plain: object) => T | undefined;

const compiled = new WeakMap<object, Acceptor<object> | null>();

/**
 * The rules class-validator checks for a DTO, read from its metadata once, run without
 * looking the metadata up again: class-validator, on every call, searches the metadata of
 * every class of the app for the DTO's ancestors (a third of a batch item's validation).
 *
 * It only ever accepts. It answers an instance when the object is one that class-validator
 * (with Assay's options: whitelist, forbidNonWhitelisted, forbidUnknownValues) accepts,
 * checked by the very validators class-validator calls, and the instance is the one
 * class-transformer would make; otherwise undefined, and class-validator is asked, so that
 * every refusal is class-validator's own, word for word. It is stricter only where that
 * is simpler: any key that is not a validated property, any value that is not a string,
 * number, boolean or null (class-transformer copies objects deeply) or, for a property with
 * an `each` rule, a JSON array, or for a nested one (@ValidateNested with @Type) the JSON
 * objects its DTO's own compiled rules accept; and any DTO with metadata it does not know
 * (asynchronous validation, groups, other class-transformer decorators) gets no compiled
 * form at all.
 */
export function compiledValidator<T extends object>(type: new () => T): Acceptor<T> | null {
  let acceptor = compiled.get(type);
  if (acceptor === undefined) {
    compiled.set(type, null); // a DTO nested in itself: class-validator's
    acceptor = compile(type);
    compiled.set(type, acceptor);
  }
  return acceptor as Acceptor<T> | null;
}

/** Keys Nest's ValidationPipe removes from a body, at any depth, before class-transformer. */
const STRIPPED = ['__proto__', 'constructor'];

/** A JSON value that is not an object, or an object of such values without STRIPPED keys. */
function isFlat(value: unknown): boolean {
  if (value === null || typeof value !== 'object') return true;
  if (Array.isArray(value) || STRIPPED.some((k) => Object.hasOwn(value, k))) return false;
  return Object.values(value).every((v) => v === null || typeof v !== 'object');
}

function compile<T extends object>(type: new () => T): Acceptor<T> | null {
  const storage = getMetadataStorage();
  const metadatas = storage.getTargetValidationMetadatas(type, '', false, false, undefined);
  if (metadatas.length === 0) return null;
  const properties = new Map<string, Property>();
  for (const m of metadatas) {
    if (m.always !== undefined || (m.groups && m.groups.length > 0)) return null;
    const property = properties.get(m.propertyName) ?? {
      name: m.propertyName,
      listed: false,
      conditions: [],
      rules: [],
    };
    properties.set(m.propertyName, property);
    if (m.type === ValidationTypes.CONDITIONAL_VALIDATION) {
      property.conditions.push(m.constraints[0] as Property['conditions'][number]);
    } else if (m.type === ValidationTypes.CUSTOM_VALIDATION) {
      for (const constraint of storage.getTargetValidatorConstraints(m.constraintCls)) {
        if (constraint.async) return null;
        const instance = constraint.instance as { validate(value: unknown, args: object): unknown };
        property.rules.push({ check: (v, a) => instance.validate(v, a), metadata: m });
        property.listed ||= m.each === true;
      }
    } else if (m.type === ValidationTypes.NESTED_VALIDATION && !property.nested) {
      const accept = nestedAcceptor(type, m.propertyName);
      if (!accept) return null;
      property.nested = { accept, each: m.each === true };
    } else {
      return null; // promise, IsDefined, Allow: class-validator alone
    }
  }
  const transformer = defaultMetadataStorage;
  if (
    transformer.getStrategy(type) !== 'none' ||
    transformer.getExposedMetadatas(type).length > 0 ||
    transformer.getExcludedMetadatas(type).length > 0
  ) {
    return null;
  }
  for (const [name, property] of properties) {
    if (
      (!property.nested && transformer.findTypeMetadata(type, name)) ||
      transformer.findExposeMetadata(type, name) ||
      transformer.findExcludeMetadata(type, name) ||
      transformer.findTransformMetadatas(type, name, TransformationType.PLAIN_TO_CLASS).length > 0
    ) {
      return null;
    }
  }
  // A property that is an accessor or a method of the class: class-transformer skips it.
  const own = new Set(Object.keys(new type()));
  for (const name of properties.keys()) {
    if (!own.has(name) && name in type.prototype) return null;
  }
  const all = [...properties.values()];
  return (plain) => {
    const instance = new type();
    const fields = instance as Record<string, unknown>;
    for (const key of Object.keys(plain)) {
      const p = properties.get(key);
      if (!p) return undefined;
      const v = (plain as Record<string, unknown>)[key];
      if (p.nested) {
        const made = madeNested(p.nested, v);
        if (!made) return undefined;
        fields[key] = made;
      } else if (v === null || typeof v !== 'object') fields[key] = v;
      // The array itself is copied; its elements, JSON parsed for this request alone, are
      // kept as they are rather than copied deeply: equal to class-transformer's copies
      // where each is a value or a flat object without the keys Nest's pipe strips.
      else if (p.listed && Array.isArray(v) && v.every(isFlat)) fields[key] = [...(v as unknown[])];
      else return undefined;
    }
    for (const key of Object.keys(instance)) if (!properties.has(key)) return undefined;
    for (const p of all) {
      const value = fields[p.name];
      if (!p.conditions.every((c) => c(instance, value))) continue;
      for (const { check, metadata } of p.rules) {
        if (metadata.validateIf && !metadata.validateIf(instance, value)) continue;
        const args = {
          targetName: type.name,
          property: p.name,
          object: instance,
          value,
          constraints: metadata.constraints,
        };
        // `each` checks every element of an array, and a primitive itself, as
        // class-validator does.
        const valid =
          metadata.each && Array.isArray(value)
            ? value.every((element) => check(element, args))
            : check(value, args);
        if (!valid) return undefined;
      }
    }
    return instance;
  };
}

/**
 * The acceptor of the DTO that @Type names for a nested property, when it is a plain class
 * (no discriminator, no function of the object) with compiled rules of its own.
 */
function nestedAcceptor(type: new () => object, name: string): Acceptor<object> | null {
  const metadata = defaultMetadataStorage.findTypeMetadata(type, name);
  if (!metadata || metadata.options?.discriminator || metadata.typeFunction.length > 0) {
    return null;
  }
  const nested = metadata.typeFunction() as unknown;
  return typeof nested === 'function' ? compiledValidator(nested as new () => object) : null;
}

/**
 * A nested property's value as class-transformer makes it, when its rules accept it: an
 * instance of each JSON object of an array (`each`), or of the one object. Anything else
 * (an element that is not an object, null, a refused object) is left to class-validator.
 */
function madeNested(nested: NonNullable<Property['nested']>, value: unknown): object | undefined {
  const one = (v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v) ? nested.accept(v) : undefined;
  if (!nested.each) return one(value);
  if (!Array.isArray(value)) return undefined;
  const made: object[] = [];
  for (const element of value) {
    const instance = one(element);
    if (!instance) return undefined;
    made.push(instance);
  }
  return made;
}
