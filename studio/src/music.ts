// Small music facts the studio needs: bar and beat lengths of a meter, the tempo of the
// quarter note, note names. Onsets and durations are in quarter notes, as in the API.

export interface Meter { beats: number; unit: number }

export function parseMeter(text: string): Meter {
  const [beats, unit] = text.split("/").map(Number);
  return beats > 0 && unit > 0 ? { beats, unit } : { beats: 4, unit: 4 };
}

/** Quarter notes in one bar: 3 in 3/4, 3 in 6/8, 4 in 2/2. */
export function barQuarters(m: Meter): number {
  return (m.beats * 4) / m.unit;
}

/** The beat as musicians count it, in quarters: a dotted quarter in 6/8, 9/8 and 12/8, a half
 * note in 2/2 and 3/2, else the meter's unit. */
export function beatQuarters(m: Meter): number {
  if (m.unit === 8 && m.beats % 3 === 0 && m.beats > 3) return 1.5;
  return 4 / m.unit;
}

/** Quarter notes per second at a tempo given in beats per minute of the meter's beat. */
export function quartersPerSecond(m: Meter, tempo: number): number {
  return (tempo * beatQuarters(m)) / 60;
}

/** The beat's note value as a musician writes a tempo mark: ♩. = 116 in 6/8. */
export function beatSymbol(m: Meter): string {
  const symbols: Record<number, string> = { 0.5: "♪", 0.75: "♪.", 1: "♩", 1.5: "♩.", 2: "𝅗𝅥", 3: "𝅗𝅥." };
  return symbols[beatQuarters(m)] ?? "♩";
}

const NAMES = ["C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B"];

export function noteName(pitch: number): string {
  return `${NAMES[pitch % 12]}${Math.floor(pitch / 12) - 1}`;
}

export function isBlackKey(pitch: number): boolean {
  return [1, 3, 6, 8, 10].includes(pitch % 12);
}

/** music21's spelling (B-4 is B flat) as a musician writes it (B♭4). */
export function prettySpelling(s: string): string {
  return s.replace(/--/g, "𝄫").replace(/-/g, "♭").replace(/##/g, "𝄪").replace(/#/g, "♯");
}

/** Bars "5-8" (numbered from 1, as the CLI and the API count them) from 0-based bar indices. */
export function barRange(first: number, last: number): string {
  return first === last ? `${first + 1}` : `${first + 1}-${last + 1}`;
}
