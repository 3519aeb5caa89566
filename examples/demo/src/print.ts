const useColour = process.stdout.isTTY === true && process.env.NO_COLOR === undefined;

function paint(code: number, text: string): string {
  return useColour ? `\u001b[${code}m${text}\u001b[0m` : text;
}

export const bold = (text: string): string => paint(1, text);
export const dim = (text: string): string => paint(2, text);
export const green = (text: string): string => paint(32, text);
export const red = (text: string): string => paint(31, text);
export const yellow = (text: string): string => paint(33, text);
export const cyan = (text: string): string => paint(36, text);

let stepNumber = 0;

export function step(title: string): void {
  stepNumber += 1;
  console.log(`\n${bold(`${stepNumber}. ${title}`)}`);
}

export function say(text: string): void {
  console.log(`   ${text}`);
}

export function statusText(status: number): string {
  const text = String(status);
  return status < 300 ? green(text) : status < 500 ? yellow(text) : red(text);
}

/** Shortens a token for display: nobody needs to read 800 characters of base64url. */
export function shortToken(token: string): string {
  return token.length > 40 ? `${token.slice(0, 24)}…${token.slice(-12)}` : token;
}

export function indentJson(value: unknown): string {
  return JSON.stringify(value, null, 2)
    .split("\n")
    .map((line) => `      ${line}`)
    .join("\n");
}
