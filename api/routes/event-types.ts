// /api/event-types: the events a webhook can receive and their data's schemas.
import { eventTypeDescriptions } from '../../core/events/catalogue.ts';
import { EventTypeList } from '../../core/schemas/index.ts';
import { json, type Route, route } from '../route.ts';

export function eventTypeRoutes(): Route[] {
  return [
    route({
      method: 'get',
      path: '/api/event-types',
      operationId: 'listEventTypes',
      tags: ['webhooks'],
      summary: 'List the event types',
      description:
        "Every event type a webhook can receive, with the JSON Schema of its CloudEvent's `data`. An event whose " +
        'data does not match its schema is not sent.',
      responses: { 200: json('The event types.', EventTypeList) },
      handle(_req, res) {
        res.json({ items: eventTypeDescriptions() });
      },
    }),
  ];
}
