// piscina's worker for the transfer bench: the size of the buffer it was given
export default (buffer) => buffer.byteLength;
