import { Module } from '@nestjs/common';
import { EventsController } from './events.controller.js';
import { EventsService } from './events.service.js';
import { OutboxPump } from './outbox-pump.js';

/** Change events: the outbox moved along and relayed, and read as SSE or JSON. */
@Module({
  controllers: [EventsController],
  providers: [EventsService, OutboxPump],
  exports: [OutboxPump],
})
export class EventsModule {}
