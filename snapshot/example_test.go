package snapshot_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log"

	"sessiond/snapshot"
)

func Example() {
	var buf bytes.Buffer
	e := snapshot.NewEncoder(&buf)
	must(e.WriteHeader(map[string]string{"redis-ver": "7.0.15", "redis-bits": "64"}))
	must(e.SelectDB(0, 2, 1))
	must(e.WriteRecord(&snapshot.Record{Key: []byte("sess:1"), Str: []byte("alice"), ExpireMs: 1893456000000}))
	must(e.WriteRecord(&snapshot.Record{Key: []byte("idx:alice"), Kind: snapshot.KindSet,
		Members: [][]byte{[]byte("sess:1")}}))
	must(e.Close())

	d, err := snapshot.NewDecoder(bytes.NewReader(buf.Bytes()), snapshot.DecoderOptions{})
	must(err)
	for {
		r, err := d.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		must(err) // a *snapshot.DecodeError naming the offset and reason
		fmt.Printf("db=%d key=%s kind=%s str=%q members=%q expire=%d\n",
			r.DB, r.Key, r.Kind, r.Str, r.Members, r.ExpireMs)
	}
	fmt.Println("redis-ver", d.Aux()["redis-ver"], "bytes", d.Offset())
	// Output:
	// db=0 key=sess:1 kind=string str="alice" members=[] expire=1893456000000
	// db=0 key=idx:alice kind=set str="" members=["sess:1"] expire=0
	// redis-ver 7.0.15 bytes 97
}

func must(err error) {
	if err != nil {
		log.Fatal(err)
	}
}
