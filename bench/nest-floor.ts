// The stack the product requires, and nothing of Assay's own: Nest on the Fastify adapter,
// a global passport-jwt guard, a ValidationPipe with class-validator DTOs shaped like
// Assay's (CreateRunEvaluation, a batch, an update) and TypeORM's driver sending the
// baseline's statements (bench/floor.ts). Tuned as any service would be, and no further:
// the HS256 key made once, a verified token remembered until its exp, the validated body
// handed on as it came (no class-transformer instance) and the statements sent on the
// pg pool TypeORM's driver holds (no query runner per statement). The bench runs it beside
// the baseline, so that what the required stack costs, against the bare server, is
// measured on every run. Started by bench.ts as a child process: PORT, DATABASE_URL,
// JWT_SECRET.
import 'reflect-metadata';
import { createSecretKey } from 'node:crypto';
import {
  type ArgumentsHost,
  Body,
  type CanActivate,
  Catch,
  Controller,
  type ExecutionContext,
  type ExceptionFilter,
  Get,
  Headers,
  Injectable,
  Module,
  Param,
  Post,
  Put,
  Query,
  Req,
  Res,
  ValidationPipe,
} from '@nestjs/common';
import { APP_FILTER, APP_GUARD, NestFactory } from '@nestjs/core';
import { AuthGuard, PassportModule, PassportStrategy } from '@nestjs/passport';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { InjectDataSource, TypeOrmModule } from '@nestjs/typeorm';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsNumber,
  IsOptional,
  IsString,
  IsUUID,
  MaxLength,
  ValidateNested,
} from 'class-validator';
import type { FastifyReply, FastifyRequest } from 'fastify';
import jwt from 'jsonwebtoken';
import { ExtractJwt, Strategy } from 'passport-jwt';
import { DataSource } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver.js';
import {
  create,
  fingerprint,
  FloorError,
  GET_ONE_SQL,
  LIST_SQL,
  type NewItem,
  type Principal,
  type Query as SendQuery,
  type Row,
  RUN_EXISTS_SQL,
  update,
  uuid,
  view,
} from './floor.js';

@Injectable()
class JwtStrategy extends PassportStrategy(Strategy) {
  constructor() {
    super({
      jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
      // A key object, made once: given the secret as a string, jsonwebtoken makes the key
      // again on every request.
      secretOrKey: createSecretKey(Buffer.from(process.env.JWT_SECRET!)) as unknown as string,
      algorithms: ['HS256'],
    });
  }

  validate(claims: Record<string, unknown>): Principal {
    const { sub, account_id: accountId, evaluator_id: evaluatorId } = claims;
    if (typeof sub !== 'string' || typeof accountId !== 'string') {
      throw new FloorError(401, 'claims missing');
    }
    return { accountId, sub, evaluatorId: typeof evaluatorId === 'string' ? evaluatorId : null };
  }
}

class CreateRunEvaluationDto {
  @IsUUID('all')
  evaluation_label_id!: string;

  @IsOptional()
  @IsString()
  @MaxLength(500)
  output_name?: string;

  @IsOptional()
  @IsString()
  @MaxLength(2000)
  field_path?: string;

  @IsNumber({ allowNaN: false, allowInfinity: false })
  value!: number;
}

class BatchItemDto extends CreateRunEvaluationDto {
  @IsUUID('all')
  run_id!: string;
}

class BatchDto {
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(1000)
  @ValidateNested({ each: true })
  @Type(() => BatchItemDto)
  items!: BatchItemDto[];
}

class UpdateDto {
  @IsNumber({ allowNaN: false, allowInfinity: false })
  value!: number;
}

class ListQueryDto {
  @IsOptional()
  @IsString()
  limit?: string;
}

/** passport-jwt's guard, which verifies a token only the first time it sees it (until its exp). */
@Injectable()
class RememberingJwtGuard extends AuthGuard('jwt') implements CanActivate {
  private readonly verified = new Map<string, { user: Principal; until: number }>();

  override canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    const req = context.switchToHttp().getRequest<AuthRequest>();
    const token = req.headers.authorization?.slice(7);
    const known = token && this.verified.get(token);
    if (known && known.until > Date.now()) {
      req.user = known.user;
      return true;
    }
    return (super.canActivate(context) as Promise<boolean>).then((ok) => {
      const exp = token && jwt.decode(token, { json: true })?.exp;
      if (token && typeof exp === 'number' && this.verified.size < 10_000) {
        this.verified.set(token, { user: req.user, until: exp * 1000 });
      }
      return ok;
    });
  }
}

@Catch(FloorError)
class FloorErrorFilter implements ExceptionFilter {
  catch(err: FloorError, host: ArgumentsHost): void {
    void host.switchToHttp().getResponse<FastifyReply>().status(err.status).send({
      error: err.message,
    });
  }
}

const item = (i: CreateRunEvaluationDto, runId: string): NewItem => ({
  runId: uuid(runId),
  labelId: i.evaluation_label_id.toLowerCase(),
  value: i.value,
  outputName: i.output_name ?? null,
});

type AuthRequest = FastifyRequest & { user: Principal };

@Controller('v1')
class EvaluationsController {
  private readonly pool: { query(sql: string, params: unknown[]): Promise<{ rows: Row[] }> };

  constructor(@InjectDataSource() db: DataSource) {
    this.pool = (db.driver as PostgresDriver).master as EvaluationsController['pool'];
  }

  @Post('run/:id/evaluations')
  create(
    @Req() req: AuthRequest,
    @Res() reply: FastifyReply,
    @Param('id') runId: string,
    @Body() dto: CreateRunEvaluationDto,
    @Headers('idempotency-key') key?: string,
  ) {
    return this.insert(req, reply, [item(dto, runId)], key);
  }

  @Post('evaluations/batch')
  batch(
    @Req() req: AuthRequest,
    @Res() reply: FastifyReply,
    @Body() dto: BatchDto,
    @Headers('idempotency-key') key?: string,
  ) {
    return this.insert(
      req,
      reply,
      dto.items.map((i) => item(i, i.run_id)),
      key,
    );
  }

  @Get('run/:id/evaluations')
  async list(@Req() req: AuthRequest, @Param('id') id: string, @Query() query: ListQueryDto) {
    const runId = uuid(id);
    const limit = query.limit ? Number(query.limit) : 1000;
    const run = await this.query(RUN_EXISTS_SQL, [req.user.accountId, runId]);
    if (!run[0]) throw new FloorError(404, 'run not found');
    const rows = await this.query(LIST_SQL, [req.user.accountId, runId, limit + 1]);
    return rows.slice(0, limit).map(view);
  }

  @Get('run/:run_id/evaluation/:evaluation_id')
  async get(
    @Req() req: AuthRequest,
    @Param('run_id') runId: string,
    @Param('evaluation_id') id: string,
  ) {
    const [row] = await this.query(GET_ONE_SQL, [req.user.accountId, uuid(runId), uuid(id)]);
    if (!row) throw new FloorError(404, 'evaluation not found');
    return view(row);
  }

  @Put('run/:run_id/evaluation/:evaluation_id')
  async update(
    @Req() req: AuthRequest,
    @Res() reply: FastifyReply,
    @Param('run_id') runId: string,
    @Param('evaluation_id') id: string,
    @Body() dto: UpdateDto,
  ) {
    const updated = await update(this.query, req.user, runId, id, dto.value);
    return reply.type('application/json').send(updated);
  }

  private readonly query: SendQuery = async (sql, params) =>
    (await this.pool.query(sql, params)).rows;

  /** Creates evaluations; a key already taken gets its stored answer. */
  private async insert(req: AuthRequest, reply: FastifyReply, items: NewItem[], key?: string) {
    const claim =
      key === undefined ? undefined : { key, fingerprint: fingerprint('POST', req.url, req.body) };
    const { status, body } = await create(this.query, req.user, items, claim);
    return reply.status(status).type('application/json').send(body);
  }
}

@Module({
  imports: [
    PassportModule,
    TypeOrmModule.forRoot({
      type: 'postgres',
      url: process.env.DATABASE_URL,
      // The same pool as Assay's and the baseline's: 32 connections unless DB_POOL_SIZE
      // says otherwise, idle ones kept 60 s.
      extra: { max: Number(process.env.DB_POOL_SIZE ?? 32), idleTimeoutMillis: 60_000 },
    }),
  ],
  controllers: [EvaluationsController],
  providers: [
    JwtStrategy,
    { provide: APP_GUARD, useClass: RememberingJwtGuard },
    { provide: APP_FILTER, useClass: FloorErrorFilter },
  ],
})
class FloorModule {}

const app = await NestFactory.create<NestFastifyApplication>(FloorModule, new FastifyAdapter(), {
  logger: ['error', 'warn'],
});
app.useGlobalPipes(
  new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
  }),
);
app.enableShutdownHooks();
await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' });
