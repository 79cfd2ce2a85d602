export class EngineError extends Error {
  readonly code: string;
  readonly retriable = false;
  constructor(code: string, message: string) {
    super(message);
    this.code = code;
    this.name = 'EngineError';
  }
}
