/**
 * Holds a share of the benchmark's open streams in a process of its own (a process may hold only so
 * many sockets), and answers the parent's snapshot requests over IPC: each stream's place, status and
 * when it last changed (epoch ms, comparable across processes on one machine).
 */
import { openStream, type StreamState } from './streams.js';

const states: StreamState[] = [];
const streams: { close(): void }[] = [];
const now = () => performance.timeOrigin + performance.now();

process.on('message', async (message: { open?: string[]; snapshot?: true; close?: true }) => {
  if (message.open) {
    const urls = message.open;
    let next = 0;
    await Promise.all(Array.from({ length: 200 }, async () => {
      while (next < urls.length) {
        const state: StreamState = { position: null, status: '', changedAt: 0 };
        states.push(state);
        const stream = openStream(urls[next++]!, state, now);
        streams.push(stream);
        await stream.opened;
      }
    }));
    process.send!({ opened: states.length });
  }
  if (message.snapshot) process.send!({ snapshot: states });
  if (message.close) {
    for (const stream of streams) stream.close();
    process.exit(0);
  }
});
