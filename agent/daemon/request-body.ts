// The body of a local API request, checked against a shape (STYLE habit 9):
// a field that does not fit is a 400 naming the field, what was expected and
// what came.
import { UsageError } from '../../shared/errors.js';
import type { Request } from '../api/server.js';
import { FieldError, type Check } from '../cluster/store/validate.js';

export function body<T>(check: Check<T>, req: Request): T {
  try {
    return check(req.body ?? {}, 'body');
  } catch (e) {
    if (e instanceof FieldError) throw new UsageError(e.message);
    throw e;
  }
}
