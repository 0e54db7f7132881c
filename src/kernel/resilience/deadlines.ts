/**
 * Deadlines for many calls on one Node timer. Each pipeline has a few fixed durations (its attempt and total
 * timeouts), and a deadline is "now + duration" on the monotonic clock, so the deadlines of one duration
 * arrive in the order they are due: a FIFO list per duration keeps them sorted with O(1) insert and O(1)
 * removal, and one timer armed for the earliest head serves them all (Node's own timer lists work the same
 * way, but cost a Timeout object, a libuv clock read and a list insert per setTimeout, plus a clearTimeout:
 * two of each per call were a visible share of the pipeline's cost in bench/http.ts).
 *
 * A call that ends in time only unlinks its node; the timer is left armed and, when it fires, re-arms for
 * the list heads that are still waiting. When nothing is waiting the timer is cleared, so an idle pipeline
 * holds no timer and does not keep the process alive.
 */

/** What is told when its deadline passes. */
export interface DeadlineOwner {
  onDeadline(node: DeadlineNode): void;
}

export class DeadlineNode {
  /** performance.now() by which the owner must be done, while linked. */
  at = 0;
  prev: DeadlineNode | undefined = undefined;
  next: DeadlineNode | undefined = undefined;
  list: DeadlineList | undefined = undefined;

  constructor(readonly owner: DeadlineOwner) {}
}

/** The deadlines of one duration, earliest first. */
export class DeadlineList {
  head: DeadlineNode | undefined = undefined;
  tail: DeadlineNode | undefined = undefined;

  constructor(
    readonly durationMs: number,
    private readonly timer: DeadlineTimer,
  ) {}

  /** Links `node` to be due `durationMs` after `now` (it is unlinked first if it is linked anywhere). */
  add(node: DeadlineNode, now: number): void {
    if (node.list) node.list.remove(node);
    node.at = now + this.durationMs;
    node.list = this;
    // Due times of one duration only grow, so the node goes last; a clock that went back (a test swapping
    // real and fake timers) falls back to a sorted insert.
    let after = this.tail;
    while (after && after.at > node.at) after = after.prev;
    node.prev = after;
    node.next = after ? after.next : this.head;
    if (node.next) node.next.prev = node;
    else this.tail = node;
    if (after) after.next = node;
    else this.head = node;
    this.timer.due(node.at, now);
  }

  remove(node: DeadlineNode): void {
    if (node.list !== this) return;
    if (node.prev) node.prev.next = node.next;
    else this.head = node.next;
    if (node.next) node.next.prev = node.prev;
    else this.tail = node.prev;
    node.prev = node.next = node.list = undefined;
    if (this.head === undefined) this.timer.maybeIdle();
  }
}

export class DeadlineTimer {
  private readonly lists: DeadlineList[] = [];
  private handle: ReturnType<typeof setTimeout> | undefined;
  private armedAt = Number.POSITIVE_INFINITY;
  /** The setTimeout the timer was armed with: a test that swaps fake and real timers must not strand it. */
  private armedWith: typeof setTimeout | undefined;

  /** A list for one duration (ms); deadlines of that duration are added to it. */
  list(durationMs: number): DeadlineList {
    const l = new DeadlineList(durationMs, this);
    this.lists.push(l);
    return l;
  }

  /** A deadline at `at` was added. */
  due(at: number, now: number): void {
    if (at < this.armedAt || this.armedWith !== setTimeout) this.arm(at, now);
  }

  /** A list emptied: drop the timer when no list holds a deadline. */
  maybeIdle(): void {
    if (this.handle === undefined) return;
    for (const l of this.lists) if (l.head) return;
    clearTimeout(this.handle);
    this.handle = undefined;
    this.armedAt = Number.POSITIVE_INFINITY;
  }

  private arm(at: number, now: number): void {
    if (this.handle !== undefined) clearTimeout(this.handle);
    this.armedAt = at;
    this.armedWith = setTimeout;
    // Node timers have millisecond resolution: round up so the timer never fires before the deadline.
    this.handle = setTimeout(fire, Math.max(1, Math.ceil(at - now)), this);
  }

  /** Tells every owner whose deadline has passed, then re-arms for the earliest left. */
  fire(): void {
    this.handle = undefined;
    this.armedAt = Number.POSITIVE_INFINITY;
    const now = performance.now();
    let next = Number.POSITIVE_INFINITY;
    for (const l of this.lists) {
      for (let n = l.head; n && n.at <= now; n = l.head) {
        l.remove(n);
        n.owner.onDeadline(n);
      }
      // An owner may have added deadlines while being told; read the head afresh.
      if (l.head && l.head.at < next) next = l.head.at;
    }
    if (next !== Number.POSITIVE_INFINITY && next < this.armedAt) this.arm(next, now);
  }
}

function fire(t: DeadlineTimer): void {
  t.fire();
}
