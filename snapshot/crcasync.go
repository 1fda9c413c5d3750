package snapshot

// crcChunks is how many chunks of consumed bytes may wait for the
// checksumming goroutine: the memory it may hold is crcChunks x decBufSize.
const crcChunks = 3

// crcWorker computes a reader's CRC64 on another goroutine
// (DecoderOptions.ConcurrentCRC). The CRC is a fifth of a load's time on
// the loading thread (it runs at about 1.5 GB/s), while a load leaves the
// other cores nearly idle; copying a chunk off costs a few percent of that.
// Chunks are checksummed in the order they are added.
type crcWorker struct {
	in   chan []byte // chunks to checksum
	free chan []byte // empty chunk buffers
	done chan uint64 // the CRC of every chunk, once in is closed
}

func startCRCWorker(crc uint64) *crcWorker {
	w := &crcWorker{in: make(chan []byte, crcChunks), free: make(chan []byte, crcChunks), done: make(chan uint64, 1)}
	for range crcChunks {
		w.free <- make([]byte, 0, decBufSize)
	}
	go func() {
		for p := range w.in {
			crc = crc64Update(crc, p)
			w.free <- p[:0]
		}
		w.done <- crc
	}()
	return w
}

// add queues a copy of p, waiting while every chunk buffer is in use.
func (w *crcWorker) add(p []byte) {
	for len(p) > 0 {
		b := <-w.free
		n := min(len(p), cap(b))
		w.in <- append(b, p[:n]...)
		p = p[n:]
	}
}

// finish waits for the checksum of everything added and stops the goroutine.
func (w *crcWorker) finish() uint64 {
	close(w.in)
	return <-w.done
}
