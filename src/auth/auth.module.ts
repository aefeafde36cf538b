import {
  type DynamicModule,
  type InjectionToken,
  Module,
  type ModuleMetadata,
} from '@nestjs/common';
import { JwtAuthGuard } from './jwt-auth.guard.js';
import { JWT_VERIFICATION, type JwtVerification } from './jwt-options.js';
import { JwtStrategy } from './jwt.strategy.js';

export interface AuthModuleOptions extends Pick<ModuleMetadata, 'imports'> {
  useFactory: (...args: never[]) => JwtVerification | Promise<JwtVerification>;
  inject?: InjectionToken[];
}

/** Bearer-JWT auth: passport-jwt behind JwtAuthGuard. */
@Module({})
export class AuthModule {
  static forRoot(options: AuthModuleOptions): DynamicModule {
    return {
      module: AuthModule,
      imports: options.imports ?? [],
      providers: [
        { provide: JWT_VERIFICATION, useFactory: options.useFactory, inject: options.inject ?? [] },
        JwtStrategy,
        JwtAuthGuard,
      ],
      exports: [JWT_VERIFICATION, JwtAuthGuard],
    };
  }
}
