/** An account whose password rpr manages: one Secrets Manager secret, one user on one resource. */
export interface Account {
  /** `<resource id>/<name>`. */
  readonly id: string;
  readonly resourceId: string;
  /** The user name on the target (a DN for LDAP). */
  readonly username: string;
  readonly secretId: string;
  readonly tags: readonly string[];
  readonly description?: string;
}
