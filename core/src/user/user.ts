export interface User {
  readonly id: string;
  readonly email: string;
  readonly name: string;
  readonly createdAt: Date;
}

export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}
