import { AppError, type ErrorCode } from './errors.js';

/** Every move a state may make; a state that maps to nothing is final. */
export type Transitions<State extends string> = Readonly<Record<State, readonly State[]>>;

/**
 * A state machine declared as data. Services ask it before they write (`assert`), and the SQL that
 * writes guards on the same table (`guard`), so a move the table does not list can happen neither in
 * code nor in a race. Adding a lifecycle step is a line in the table.
 */
export class StateMachine<State extends string> {
  constructor(
    readonly name: string,
    readonly transitions: Transitions<State>,
  ) {}

  can(from: State, to: State): boolean {
    return this.transitions[from].includes(to);
  }

  /** Throws `refusal` (the caller knows what the move means to a client) unless `from → to` is listed. */
  assert(from: State, to: State, refusal: ErrorCode): void {
    if (!this.can(from, to)) {
      throw new AppError(refusal, `A ${from.toLowerCase()} ${this.name} cannot become ${to.toLowerCase()}.`);
    }
  }

  /** The states from which `to` may be reached. */
  sources(to: State): State[] {
    return (Object.keys(this.transitions) as State[]).filter((from) => this.can(from, to));
  }

  /**
   * `column IN ('A', 'B')`: the database's last word on the same rule, for a WHERE clause. `from` narrows
   * it to the moves one statement makes (releasing a hold is PENDING → CANCELED, a refund CONFIRMED →
   * CANCELED); each must be in the table, or the statement fails when its module loads.
   */
  guard(column: string, to: State, from: readonly State[] = this.sources(to)): string {
    if (from.length === 0) throw new Error(`no ${this.name} state may become ${to}`);
    for (const state of from) if (!this.can(state, to)) throw new Error(`a ${state} ${this.name} may not become ${to}`);
    return `${column} IN (${from.map((state) => `'${state}'`).join(', ')})`;
  }
}
