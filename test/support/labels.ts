/** A label's definition as the fixtures of the statistics specs give it. */
export type LabelDef = {
  value_type: string;
  min_value?: number;
  max_value?: number;
  categories?: string[];
  higher_is_better?: boolean;
};

/** Another value the label allows: written first, then corrected to the real one. */
export function otherValue(label: LabelDef, value: number): number {
  switch (label.value_type) {
    case 'binary':
      return 1 - value;
    case 'continuous':
      return value === label.max_value ? label.min_value! : label.max_value!;
    default:
      return (value + 1) % label.categories!.length;
  }
}
