/**
 * Input a pure parser refused (a label or field selector): the caller's mistake. lib/ knows no HTTP; the edges
 * (http/error-handler.ts asApiError) answer it 400 code 3 with this message, wherever it was thrown.
 */
export class InputError extends Error {}
