/**
 * Why the state store refused or could not be reached, as far as the fix goes: what the operator has to change.
 * - `network-acl`: the instance's network ACL refuses the network the request came from (an Internet endpoint for an
 *   instance that only allows VPCs and the classic network).
 * - `credentials`: the keys or STS token were refused (signature, unknown key, expired token).
 * - `permission`: the role lacks an `ots:` action on the table.
 * - `instance`: no such instance at this endpoint.
 * - `table-missing`: no such table, and it could not be created.
 * - `unavailable`: the service was busy, unreachable or did not answer in time; no setting to change.
 * - `unknown`: anything else; the service's code and message say what.
 */
export type StateFault =
  'network-acl' | 'credentials' | 'permission' | 'instance' | 'table-missing' | 'unavailable' | 'unknown';
