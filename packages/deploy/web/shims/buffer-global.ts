// Core and the model reader use Node's Buffer for text and hex conversions.
export { Buffer } from 'buffer';
