import { type DynamicModule, type InjectionToken, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { PassportModule } from '@nestjs/passport';
import { JwtAuthGuard } from './jwt-auth.guard.js';
import { JWT_VERIFICATION, type JwtVerification } from './jwt-options.js';
import { JwtStrategy } from './jwt.strategy.js';

export interface AuthModuleOptions {
  useFactory: (...args: never[]) => JwtVerification | Promise<JwtVerification>;
  inject?: InjectionToken[];
}

/** Bearer-JWT auth: one global deny-by-default guard, passport-jwt underneath. */
@Module({})
export class AuthModule {
  static forRoot(options: AuthModuleOptions): DynamicModule {
    return {
      module: AuthModule,
      imports: [PassportModule],
      providers: [
        { provide: JWT_VERIFICATION, useFactory: options.useFactory, inject: options.inject ?? [] },
        JwtStrategy,
        { provide: APP_GUARD, useClass: JwtAuthGuard },
      ],
      exports: [JWT_VERIFICATION],
    };
  }
}
