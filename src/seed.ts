import { HOUSE_PRICES } from './modules/catalog/catalog.rules.js';
import type { CatalogService } from './modules/catalog/catalog.service.js';

const DEMO_EVENT_CODE = 'DEMO-CONCERT';
const DAY_MS = 24 * 60 * 60 * 1000;

/** A demo event with three dates, so a newcomer can walk the whole flow at once. Runs once per database. */
export async function seedDemoData(catalog: CatalogService, now: Date): Promise<boolean> {
  if (await catalog.findEventByCode(DEMO_EVENT_CODE)) return false;
  const event = await catalog.createEvent({
    code: DEMO_EVENT_CODE,
    name: 'The Flash Sale Orchestra',
    description: 'One night only, three dates. Fifty seats each.',
    category: 'Concert',
  });
  for (const days of [7, 8, 9]) {
    const startAt = new Date(Math.floor(now.getTime() / DAY_MS) * DAY_MS + days * DAY_MS + 19 * 60 * 60 * 1000);
    await catalog.createSchedule(event.id, {
      startAt: startAt.toISOString(),
      endAt: new Date(startAt.getTime() + 3 * 60 * 60 * 1000).toISOString(),
      prices: { ...HOUSE_PRICES },
    });
  }
  return true;
}
