import { SetMetadata } from '@nestjs/common';

export const IS_PUBLIC = 'assay:public';

/** Opts a route out of the global JWT guard (health probes, docs). */
export const Public = (): MethodDecorator & ClassDecorator => SetMetadata(IS_PUBLIC, true);
