import { eventsQuery, matchesFilters, parseTypes } from './event-filter';

describe('event log filters', () => {
  it('reads the types list from the URL, trimmed and without repeats', () => {
    expect(parseTypes(' RunStarted,RunCompleted,,RunStarted ')).toEqual(['RunStarted', 'RunCompleted']);
    expect(parseTypes(null)).toEqual([]);
  });

  it('sends types comma-separated and only a whole stream id as streamId', () => {
    expect(eventsQuery({ after: 5, types: ['RunStarted', 'RunCompleted'], stream: 'run:abc' }, 100)).toEqual({ after: 5, limit: 100, types: 'RunStarted,RunCompleted', streamId: 'run:abc' });
    expect(eventsQuery({ types: [], stream: 'run:' }, 50)).toEqual({ limit: 50 });
    expect(eventsQuery({ types: [], stream: 'abc' }, 50)).toEqual({ limit: 50 });
  });

  it('filters a page the same way when the gateway ignored the filters', () => {
    const events = [
      { type: 'RunStarted', streamId: 'run:abc' },
      { type: 'RunStarted', streamId: 'run:abcd' },
      { type: 'TemplateCreated', streamId: 'template:t1' },
      { type: 'RunCompleted', streamId: 'run:abc' },
    ];
    const pick = (f: Parameters<typeof matchesFilters>[1]) => events.filter((e) => matchesFilters(e, f)).map((e) => `${e.type}@${e.streamId}`);
    expect(pick({ types: [], stream: 'run:abc' })).toEqual(['RunStarted@run:abc', 'RunCompleted@run:abc']);
    expect(pick({ types: ['RunStarted'], stream: 'run:' })).toEqual(['RunStarted@run:abc', 'RunStarted@run:abcd']);
    expect(pick({ types: ['TemplateCreated', 'RunCompleted'], stream: '' })).toEqual(['TemplateCreated@template:t1', 'RunCompleted@run:abc']);
    expect(pick({ types: [], stream: 't1' })).toEqual(['TemplateCreated@template:t1']);
  });
});
