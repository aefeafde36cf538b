import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Body, Controller, Get, Module, Post } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { TypeOrmModule } from '@nestjs/typeorm';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { ASSAY_ENTITIES, ASSAY_MIGRATIONS, AssayModule, configureAssayHttp } from '../src/index.js';
import { pgliteDriver } from '../src/database/pglite-driver.js';
import { bearer, DATABASES, TEST_SECRET, testSettings } from './support/app.js';

/** A host app's own route, with no auth of its own. */
@Controller('hello')
class HelloController {
  @Get()
  hello() {
    return { hello: 'world' };
  }

  @Post()
  echo(@Body() body: unknown) {
    return { echo: body };
  }
}

describe.each(DATABASES)('Assay modules inside another Nest app, on $name', (db) => {
  let app: NestFastifyApplication;
  let http: ReturnType<typeof request>;

  beforeAll(async () => {
    const url = testSettings(db).DATABASE_URL;
    // The host's own connection: Assay only asks that its entities and migrations be in it.
    const connection = {
      type: 'postgres' as const,
      ...(url ? { url } : { driver: pgliteDriver(undefined) }),
      entities: [...ASSAY_ENTITIES],
      migrations: [...ASSAY_MIGRATIONS],
      migrationsRun: true,
    };
    if (url) {
      const ds = await new DataSource(connection).initialize();
      await ds.query('DROP SCHEMA public CASCADE; CREATE SCHEMA public;');
      await ds.destroy();
    }

    @Module({
      imports: [
        TypeOrmModule.forRoot(connection),
        AssayModule.forRootAsync({
          useFactory: () => ({ auth: { secret: TEST_SECRET, accountClaim: 'account_id' } }),
        }),
      ],
      controllers: [HelloController],
    })
    class HostModule {}

    app = await NestFactory.create<NestFastifyApplication>(HostModule, new FastifyAdapter(), {
      logger: false,
    });
    configureAssayHttp(app);
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
    http = request(app.getHttpServer());
  });
  afterAll(() => app.close());

  it('creates and lists evaluations through HTTP', async () => {
    const label = await http
      .post('/v1/evaluation-labels')
      .set(bearer())
      .send({ name: 'correct', value_type: 'binary' });
    expect(label.status).toBe(201);
    const run = await http
      .post('/v1/runs')
      .set(bearer())
      .send({ outputs: { answer: 42 } });
    expect(run.status).toBe(201);
    const created = await http
      .post(`/v1/run/${run.body.id}/evaluations`)
      .set(bearer())
      .send({ evaluation_label_id: label.body.id, value: 1, output_name: 'answer' });
    expect(created.status).toBe(201);
    const list = await http.get(`/v1/run/${run.body.id}/evaluations`).set(bearer());
    expect(list.status).toBe(200);
    expect(list.body).toEqual([created.body]);
  });

  it("guards, validates and shapes errors on Assay's routes without touching the host's", async () => {
    const noToken = await http.get('/v1/runs');
    expect([noToken.status, noToken.body.code]).toEqual([401, 'unauthorized']);
    const bad = await http.post('/v1/runs').set(bearer()).send({ colour: 'red' });
    expect([bad.status, bad.body.code]).toEqual([400, 'validation_failed']);
    const missing = await http.get('/v1/run/9b2f1c3e-6a3d-4f0b-8e2a-5c7d9e1f3a4b').set(bearer());
    expect([missing.status, missing.body.code]).toEqual([404, 'not_found']);
    expect((await http.get('/hello')).body).toEqual({ hello: 'world' });
  });

  it("answers errors Fastify raises before Assay's routes run in Assay's body, with x-request-id", async () => {
    const malformed = await http
      .post('/v1/runs')
      .set(bearer())
      .set('content-type', 'application/json')
      .send('{"name": ');
    expect(malformed.status).toBe(400);
    expect(malformed.body).toEqual({
      error: expect.any(String),
      code: 'invalid_json',
      request_id: malformed.headers['x-request-id'],
    });
    const text = await http
      .post('/v1/runs')
      .set(bearer())
      .set('content-type', 'text/plain')
      .send('hello');
    expect([text.status, text.body.code]).toEqual([415, 'unsupported_media_type']);
    expect(text.body.request_id).toBe(text.headers['x-request-id']);
    const unknown = await http.get('/v1/nothing-here').set(bearer());
    expect([unknown.status, unknown.body.code]).toEqual([404, 'route_not_found']);

    const mine = await http.get('/v1/runs').set(bearer()).set('x-request-id', 'trace-42');
    expect(mine.headers['x-request-id']).toBe('trace-42');
    const made = await http.get('/hello');
    expect(made.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("leaves the host's own routes to the host's error handling", async () => {
    const text = await http.post('/hello').set('content-type', 'text/plain').send('hi');
    expect([text.status, text.body]).toEqual([201, { echo: 'hi' }]);
    const malformed = await http
      .post('/hello')
      .set('content-type', 'application/json')
      .send('{"a": ');
    expect(malformed.status).toBe(400);
    expect(malformed.body.code).toBeUndefined();
    expect(malformed.body.statusCode).toBe(400);
  });
});
