import { Global, Module } from '@nestjs/common';
import { ConditionalGets } from './conditional-get.js';
import { WriteInterceptor } from './write.interceptor.js';
import { WritePipeline } from './write-pipeline.js';

/** The write pipeline, for every feature module of Assay, and the ETags of its reads. */
@Global()
@Module({
  providers: [WritePipeline, WriteInterceptor, ConditionalGets],
  exports: [WritePipeline, WriteInterceptor],
})
export class WritesModule {}
