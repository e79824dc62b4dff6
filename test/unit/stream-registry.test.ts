import { describe, expect, it } from 'vitest';
import { StreamRegistry } from '../../src/shared/stream-registry.js';

interface Stream {
  name: string;
  token: string;
  topic: string;
  ended: boolean;
  end(): void;
}

const stream = (name: string, token: string, topic: string): Stream => ({
  name,
  token,
  topic,
  ended: false,
  end() {
    this.ended = true;
  },
});

describe('StreamRegistry', () => {
  const registry = () => {
    const followed: string[] = [];
    const streams = new StreamRegistry<Stream, number>({
      topicOf: (s) => s.topic,
      perToken: 2,
      onFirst: (topic) => followed.push(`+${topic}`),
      onLast: (topic) => followed.push(`-${topic}`),
    });
    return { streams, followed };
  };

  it('follows a topic from its first stream to its last', () => {
    const { streams, followed } = registry();
    const [a, b] = [stream('a', 't1', 'e1'), stream('b', 't2', 'e1')];
    streams.add(a, 1);
    streams.add(b, 2);
    expect(followed).toEqual(['+e1']);
    streams.remove(a);
    streams.remove(a);
    expect([followed, streams.size]).toEqual([['+e1'], 1]);
    streams.remove(b);
    expect([followed, streams.size, streams.has('e1')]).toEqual([['+e1', '-e1'], 0, false]);
  });

  it('keeps at most perToken streams of one token, ending the oldest', () => {
    const { streams, followed } = registry();
    const [first, second, third] = [stream('1', 't', 'e1'), stream('2', 't', 'e2'), stream('3', 't', 'e1')];
    for (const s of [first, second, third]) streams.add(s, 0);
    expect([first.ended, second.ended, third.ended]).toEqual([true, false, false]);
    expect([...streams.clients()].map((s) => s.name).sort()).toEqual(['2', '3']);
    // The first was e1's only stream: e1 was left, then followed again by the third.
    expect(followed).toEqual(['+e1', '+e2', '-e1', '+e1']);
  });

  it('ends a stream added while closing, and every open one on endAll', () => {
    const { streams } = registry();
    const open = stream('open', 't1', 'e1');
    streams.add(open, 0);
    streams.close();
    const late = stream('late', 't2', 'e1');
    expect([streams.add(late, 0), late.ended, streams.accepting]).toEqual([false, true, false]);
    streams.endAll();
    expect([open.ended, streams.size]).toEqual([true, 0]);
  });
});
