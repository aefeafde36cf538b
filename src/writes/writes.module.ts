import { Global, Module } from '@nestjs/common';
import { WriteInterceptor } from './write.interceptor.js';
import { WritePipeline } from './write-pipeline.js';

/** The write pipeline, for every feature module of Assay. */
@Global()
@Module({
  providers: [WritePipeline, WriteInterceptor],
  exports: [WritePipeline, WriteInterceptor],
})
export class WritesModule {}
