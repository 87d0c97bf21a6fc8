// Growth from earlier counts: the slope is a least-squares fit through earlier ScheduleCount points
// and the current count, in schedules per hour, with days until full only while the count grows.
import { describe, expect, it } from 'vitest';
import { type CountPoint, computeGrowth } from '../../src/census/growth.ts';

const NOW = new Date('2026-03-02T12:00:00Z');
const minutesBefore = (minutes: number) => new Date(NOW.getTime() - minutes * 60_000);
const point = (minutesAgo: number, count: number): CountPoint => ({ at: minutesBefore(minutesAgo), count });

describe('computeGrowth', () => {
  it('reports nothing on a first run, when there is no earlier count', () => {
    expect(computeGrowth([], point(0, 5_000), 1_000_000)).toBeUndefined();
  });

  it('reports nothing when the earlier points are too close to now to say anything about an hour', () => {
    expect(computeGrowth([point(5, 4_000)], point(0, 5_000), 1_000_000)).toBeUndefined();
  });

  it('measures schedules per hour between an earlier count and now', () => {
    // Prepare
    const previous = [point(60, 3_000)];
    // Act
    const growth = computeGrowth(previous, point(0, 3_120), 10_000);
    // Assess
    expect(growth?.perHour).toBeCloseTo(120, 9);
    expect(growth?.daysUntilFull).toBeCloseTo((10_000 - 3_120) / 120 / 24, 9);
    expect(growth?.points).toBe(2);
    expect(growth?.spanHours).toBeCloseTo(1, 9);
  });

  it('follows the trend through every point rather than the two ends', () => {
    // Prepare: steady growth of 400 per hour, but the oldest point was taken just after a sweep.
    const previous = [
      point(180, 1_000),
      ...[165, 150, 135, 120, 105, 90, 75, 60, 45, 30, 15].map((m) => point(m, 10_000 - (m / 60) * 400)),
    ];
    // Act
    const growth = computeGrowth(previous, point(0, 10_000), 1_000_000);
    // Assess: the endpoints alone would say (10000 - 1000) / 3 = 3000 per hour.
    expect(growth?.perHour).toBeGreaterThan(300);
    expect(growth?.perHour).toBeLessThan(1_500);
  });

  it('fits exactly when every count lies on one line', () => {
    const previous = [180, 120, 60, 30].map((m) => point(m, 50_000 - (m / 60) * 250));

    const growth = computeGrowth(previous, point(0, 50_000), 100_000);

    expect(growth?.perHour).toBeCloseTo(250, 6);
    expect(growth?.daysUntilFull).toBeCloseTo(50_000 / 250 / 24, 6);
  });

  it('reports shrinking counts as negative growth with no days-until-full figure', () => {
    const growth = computeGrowth([point(60, 8_000)], point(0, 6_000), 10_000);

    expect(growth?.perHour).toBeCloseTo(-2_000, 9);
    expect(growth?.daysUntilFull).toBeUndefined();
  });

  it('says zero days when the count has already reached the quota', () => {
    const growth = computeGrowth([point(60, 9_900)], point(0, 10_050), 10_000);

    expect(growth?.daysUntilFull).toBe(0);
  });
});
