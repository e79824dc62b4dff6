import { EventEmitter } from 'node:events';

/**
 * In-process publish/subscribe by topic, the embedded counterpart of ShardedChannels: one process is the
 * whole fleet, so its followers are every follower there is. A message reaches the listeners only for a
 * followed topic, as a sharded subscription would deliver it.
 */
export class LocalChannels<Message> {
  readonly #emitter = new EventEmitter();
  readonly #followed = new Set<string>();

  publish(topic: string, message: Message): void {
    if (this.#followed.has(topic)) this.#emitter.emit('message', topic, message);
  }

  subscribe(listener: (topic: string, message: Message) => void): void {
    this.#emitter.on('message', listener);
  }

  follow(topic: string): void {
    this.#followed.add(topic);
  }

  unfollow(topic: string): void {
    this.#followed.delete(topic);
  }

  close(): void {
    this.#emitter.removeAllListeners();
    this.#followed.clear();
  }
}
