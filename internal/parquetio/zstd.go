package parquetio

import (
	"runtime"
	"sync"

	"github.com/klauspost/compress/zstd"
	"github.com/parquet-go/parquet-go/format"
)

// zstdCodec is the zstd codec of stored files. parquet-go's own keeps its
// encoders in a pool that every garbage collection empties, so a run that
// writes many files builds encoders (megabytes of tables each) over and
// over, and its memory grows with the garbage. This one holds a single
// encoder and a single decoder, made on first use: klauspost's EncodeAll
// and DecodeAll are safe for concurrent use and keep a fixed number of
// block encoders and decoders (one per core), with a window no larger
// than a Parquet page needs.
type zstdCodec struct {
	once sync.Once
	enc  *zstd.Encoder
	dec  *zstd.Decoder
	err  error
}

// windowSize bounds the encoders' match window. Parquet pages are about
// a megabyte at most, and each page is compressed on its own.
const windowSize = 1 << 20

func (c *zstdCodec) init() {
	c.once.Do(func() {
		n := runtime.GOMAXPROCS(0)
		c.enc, c.err = zstd.NewWriter(nil,
			zstd.WithEncoderLevel(zstd.SpeedDefault),
			zstd.WithEncoderConcurrency(n),
			zstd.WithWindowSize(windowSize),
			zstd.WithLowerEncoderMem(true),
			zstd.WithZeroFrames(true),
			zstd.WithEncoderCRC(false))
		if c.err != nil {
			return
		}
		c.dec, c.err = zstd.NewReader(nil, zstd.WithDecoderConcurrency(n), zstd.WithDecoderLowmem(true))
	})
}

// String names the codec.
func (c *zstdCodec) String() string { return "ZSTD" }

// CompressionCodec is the codec's Parquet identifier.
func (c *zstdCodec) CompressionCodec() format.CompressionCodec { return format.Zstd }

// Encode compresses src into dst.
func (c *zstdCodec) Encode(dst, src []byte) ([]byte, error) {
	c.init()
	if c.err != nil {
		return dst[:0], c.err
	}
	return c.enc.EncodeAll(src, dst[:0]), nil
}

// Decode decompresses src into dst.
func (c *zstdCodec) Decode(dst, src []byte) ([]byte, error) {
	c.init()
	if c.err != nil {
		return dst[:0], c.err
	}
	return c.dec.DecodeAll(src, dst[:0])
}
