// Storage for the Scheduler emulator, built to hold millions of schedules: O(1) lookup by group and
// name, an append-ordered list per group that cursors resume in O(log n) and that stays correct while
// schedules are deleted between pages, and a min-heap of due times for ActionAfterCompletion DELETE.
import type { ScheduleDefinition } from './scheduler-model.ts';

/** A stored schedule. Fields stay in one fixed order so V8 shares one hidden class across records. */
export interface ScheduleRecord extends Omit<ScheduleDefinition, 'creationDate' | 'lastModificationDate'> {
  /** Insertion order, unique across the store; listing order within a group and the cursor position. */
  seq: number;
  creationDate: number;
  lastModificationDate: number;
  /** When Scheduler removes it on its own (epoch ms), or NaN when it never will. */
  dueMs: number;
  live: boolean;
}

export interface GroupRecord {
  name: string;
  arn: string;
  creationDate: number;
  lastModificationDate: number;
  byName: Map<string, ScheduleRecord>;
  /** Records in seq order, with deleted ones left in place until compaction. */
  ordered: ScheduleRecord[];
  tombstones: number;
}

export interface ListCursor {
  group: string;
  seq: number;
}

export interface ListQuery {
  group?: string;
  namePrefix?: string;
  state?: string;
  cursor?: ListCursor;
  limit: number;
}

export interface ListPage {
  items: ScheduleRecord[];
  next: ListCursor | undefined;
}

export interface CountFilter {
  group?: string;
  namePrefix?: string;
  state?: string;
  actionAfterCompletion?: string;
}

/** api: DeleteSchedule; auto: ActionAfterCompletion DELETE; group: its group deleted; application: the fault model's simulated application. */
export const RemovalReason = {
  api: 'api',
  auto: 'auto',
  group: 'group',
  application: 'application',
} as const;
export type RemovalReasonValue = (typeof RemovalReason)[keyof typeof RemovalReason];

/**
 * How many stored entries one ListSchedules call may step over before it returns a short page with a
 * NextToken, so a selective filter over millions of schedules never stalls the server for seconds.
 */
const SCAN_LIMIT_PER_PAGE = 200_000;
const COMPACTION_MINIMUM = 1024;

export interface ScheduleStore {
  groups: Map<string, GroupRecord>;
  size(): number;
  group(name: string): GroupRecord | undefined;
  groupNames(): readonly string[];
  addGroup(name: string, now: number): GroupRecord;
  /** Removes the group and, through onRemove, every schedule in it. */
  removeGroup(name: string): number;
  find(group: string, name: string): ScheduleRecord | undefined;
  insert(definition: ScheduleDefinition, now: number, dueMs: number): ScheduleRecord;
  replace(record: ScheduleRecord, definition: ScheduleDefinition, now: number, dueMs: number): void;
  remove(record: ScheduleRecord, reason: RemovalReasonValue): void;
  /** Removes every schedule whose due time has passed; returns how many. */
  expire(now: number): number;
  list(query: ListQuery): ListPage;
  count(filter?: CountFilter): number;
  clear(): void;
}

export function createScheduleStore(options: {
  groupArn: (name: string) => string;
  onRemove: (record: ScheduleRecord, reason: RemovalReasonValue) => void;
}): ScheduleStore {
  const groups = new Map<string, GroupRecord>();
  let sortedNames: string[] = [];
  let total = 0;
  let nextSeq = 1;
  const heap = createDueHeap();

  function addGroup(name: string, now: number): GroupRecord {
    const group: GroupRecord = {
      name,
      arn: options.groupArn(name),
      creationDate: now,
      lastModificationDate: now,
      byName: new Map(),
      ordered: [],
      tombstones: 0,
    };
    groups.set(name, group);
    sortedNames = [...groups.keys()].sort();
    return group;
  }

  function remove(record: ScheduleRecord, reason: RemovalReasonValue): void {
    if (!record.live) return;
    const group = groups.get(record.group);
    record.live = false;
    total -= 1;
    if (group) {
      group.byName.delete(record.name);
      group.tombstones += 1;
      if (group.tombstones > COMPACTION_MINIMUM && group.tombstones * 2 > group.ordered.length) {
        group.ordered = group.ordered.filter((entry) => entry.live);
        group.tombstones = 0;
      }
    }
    options.onRemove(record, reason);
  }

  function insert(definition: ScheduleDefinition, now: number, dueMs: number): ScheduleRecord {
    const group = groups.get(definition.group);
    if (!group) throw new Error(`Schedule group ${definition.group} does not exist`);
    const record = toRecord(definition, nextSeq, now, dueMs);
    nextSeq += 1;
    group.byName.set(record.name, record);
    group.ordered.push(record);
    total += 1;
    if (!Number.isNaN(dueMs)) heap.push(dueMs, record);
    return record;
  }

  function replace(record: ScheduleRecord, definition: ScheduleDefinition, now: number, dueMs: number): void {
    // Same seq: an update keeps the schedule's place in listings, as it is the same schedule.
    const creationDate = record.creationDate;
    Object.assign(record, toRecord(definition, record.seq, now, dueMs));
    record.creationDate = creationDate;
    if (!Number.isNaN(dueMs)) heap.push(dueMs, record);
  }

  function list(query: ListQuery): ListPage {
    const names = query.group === undefined ? sortedNames : [query.group];
    const items: ScheduleRecord[] = [];
    let scanned = 0;
    let start = 0;
    if (query.cursor) {
      const cursorGroup = query.cursor.group;
      start = lowerBound(names.length, (index) => names[index]! < cursorGroup);
    }
    for (let groupIndex = start; groupIndex < names.length; groupIndex += 1) {
      const group = groups.get(names[groupIndex]!);
      if (!group) continue;
      const afterSeq = query.cursor && query.cursor.group === group.name ? query.cursor.seq : 0;
      const ordered = group.ordered;
      let position = lowerBound(ordered.length, (index) => ordered[index]!.seq <= afterSeq);
      for (; position < ordered.length; position += 1) {
        const record = ordered[position]!;
        if (!record.live) continue;
        scanned += 1;
        if (!matches(record, query)) {
          if (scanned >= SCAN_LIMIT_PER_PAGE) return { items, next: { group: group.name, seq: record.seq } };
          continue;
        }
        if (items.length === query.limit) {
          // One more match exists, so the page we filled is not the last.
          const last = items[items.length - 1]!;
          return { items, next: { group: last.group, seq: last.seq } };
        }
        items.push(record);
      }
    }
    return { items, next: undefined };
  }

  function count(filter: CountFilter = {}): number {
    if (filter.group === undefined && !filter.namePrefix && !filter.state && !filter.actionAfterCompletion) {
      return total;
    }
    let result = 0;
    for (const group of groups.values()) {
      if (filter.group !== undefined && group.name !== filter.group) continue;
      for (const record of group.byName.values()) {
        if (!matches(record, filter)) continue;
        if (filter.actionAfterCompletion && record.actionAfterCompletion !== filter.actionAfterCompletion)
          continue;
        result += 1;
      }
    }
    return result;
  }

  return {
    groups,
    size: () => total,
    group: (name) => groups.get(name),
    groupNames: () => sortedNames,
    addGroup,
    removeGroup(name) {
      const group = groups.get(name);
      if (!group) return 0;
      const members = [...group.byName.values()];
      for (const record of members) remove(record, RemovalReason.group);
      groups.delete(name);
      sortedNames = [...groups.keys()].sort();
      return members.length;
    },
    find: (group, name) => groups.get(group)?.byName.get(name),
    insert,
    replace,
    remove,
    expire(now) {
      let removed = 0;
      while (heap.size() > 0 && heap.peekDue() <= now) {
        const [due, record] = heap.pop();
        // Stale entries (deleted or updated since) are skipped; only the record's current due counts.
        if (record.live && record.dueMs === due) {
          remove(record, RemovalReason.auto);
          removed += 1;
        }
      }
      return removed;
    },
    list,
    count,
    clear() {
      for (const group of groups.values()) {
        for (const record of group.byName.values()) record.live = false;
      }
      groups.clear();
      sortedNames = [];
      total = 0;
      heap.clear();
    },
  };
}

function matches(record: ScheduleRecord, filter: { namePrefix?: string; state?: string }): boolean {
  if (filter.state && record.state !== filter.state) return false;
  if (filter.namePrefix && !record.name.startsWith(filter.namePrefix)) return false;
  return true;
}

function toRecord(definition: ScheduleDefinition, seq: number, now: number, dueMs: number): ScheduleRecord {
  return {
    name: definition.name,
    group: definition.group,
    expression: definition.expression,
    timezone: definition.timezone,
    startDate: definition.startDate,
    endDate: definition.endDate,
    description: definition.description,
    state: definition.state,
    kmsKeyArn: definition.kmsKeyArn,
    windowMode: definition.windowMode,
    windowMinutes: definition.windowMinutes,
    actionAfterCompletion: definition.actionAfterCompletion,
    targetArn: definition.targetArn,
    roleArn: definition.roleArn,
    input: definition.input,
    maximumEventAgeSeconds: definition.maximumEventAgeSeconds,
    maximumRetryAttempts: definition.maximumRetryAttempts,
    deadLetterArn: definition.deadLetterArn,
    targetExtra: definition.targetExtra,
    seq,
    creationDate: definition.creationDate ?? now,
    lastModificationDate: definition.lastModificationDate ?? definition.creationDate ?? now,
    dueMs,
    live: true,
  };
}

/** First index in [0, length) for which `before(index)` is false, assuming it is monotone. */
function lowerBound(length: number, before: (index: number) => boolean): number {
  let low = 0;
  let high = length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (before(middle)) low = middle + 1;
    else high = middle;
  }
  return low;
}

/** A binary min-heap of (due time, record) in two parallel arrays. */
function createDueHeap() {
  let dues: number[] = [];
  let records: ScheduleRecord[] = [];

  function swap(left: number, right: number): void {
    const due = dues[left]!;
    dues[left] = dues[right]!;
    dues[right] = due;
    const record = records[left]!;
    records[left] = records[right]!;
    records[right] = record;
  }

  return {
    size: () => dues.length,
    peekDue: () => dues[0]!,
    push(due: number, record: ScheduleRecord): void {
      dues.push(due);
      records.push(record);
      let index = dues.length - 1;
      while (index > 0) {
        const parent = (index - 1) >>> 1;
        if (dues[parent]! <= dues[index]!) break;
        swap(parent, index);
        index = parent;
      }
    },
    pop(): [number, ScheduleRecord] {
      const top: [number, ScheduleRecord] = [dues[0]!, records[0]!];
      const lastDue = dues.pop()!;
      const lastRecord = records.pop()!;
      if (dues.length > 0) {
        dues[0] = lastDue;
        records[0] = lastRecord;
        let index = 0;
        for (;;) {
          const left = index * 2 + 1;
          const right = left + 1;
          let smallest = index;
          if (left < dues.length && dues[left]! < dues[smallest]!) smallest = left;
          if (right < dues.length && dues[right]! < dues[smallest]!) smallest = right;
          if (smallest === index) break;
          swap(index, smallest);
          index = smallest;
        }
      }
      return top;
    },
    clear(): void {
      dues = [];
      records = [];
    },
  };
}
