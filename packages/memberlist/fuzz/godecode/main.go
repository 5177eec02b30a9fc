// godecode decodes msgpack bodies exactly as memberlist 0.2.2 does (hashicorp/go-msgpack with a
// zero MsgpackHandle into the same struct shapes), and LZW data as its decompressPayload does
// (compress/lzw, LSB, 8-bit literals; struct name "lzw", result in "v" as hex), for
// differential testing of the TypeScript decoder. Input on stdin, one per line:
// "<struct> <hex>". Output, one JSON line per input:
// {"ok":true,"v":{field: value}} or {"ok":false,"err":"..."}. Strings and byte slices are given
// as hex (nil byte slices as null), numbers as decimal strings, and "utf8" tells whether every
// string field is valid UTF-8.
package main

import (
	"bufio"
	"bytes"
	"compress/lzw"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"reflect"
	"strings"
	"unicode/utf8"

	"github.com/hashicorp/go-msgpack/codec"
)

// The struct shapes below copy memberlist 0.2.2's message structs field for field (names, Go
// types, declaration order and tags), because the decoder's behaviour depends on exactly those.

type ping struct {
	SeqNo      uint32
	Node       string
	SourceAddr []byte `codec:",omitempty"`
	SourcePort uint16 `codec:",omitempty"`
	SourceNode string `codec:",omitempty"`
}

type indirectPingReq struct {
	SeqNo      uint32
	Target     []byte
	Port       uint16
	Node       string
	Nack       bool
	SourceAddr []byte `codec:",omitempty"`
	SourcePort uint16 `codec:",omitempty"`
	SourceNode string `codec:",omitempty"`
}

type ackResp struct {
	SeqNo   uint32
	Payload []byte
}

type nackResp struct {
	SeqNo uint32
}

type errResp struct {
	Error string
}

type suspect struct {
	Incarnation uint32
	Node        string
	From        string
}

type alive struct {
	Incarnation uint32
	Node        string
	Addr        []byte
	Port        uint16
	Meta        []byte
	Vsn         []uint8
}

type pushPullHeader struct {
	Nodes        int
	UserStateLen int
	Join         bool
}

type userMsgHeader struct {
	UserMsgLen int
}

type nodeStateType int

type pushNodeState struct {
	Name        string
	Addr        []byte
	Port        uint16
	Meta        []byte
	Incarnation uint32
	State       nodeStateType
	Vsn         []uint8
}

type compressionType uint8

type compress struct {
	Algo compressionType
	Buf  []byte
}

func target(name string) interface{} {
	switch name {
	case "ping":
		return &ping{}
	case "indirectPingReq":
		return &indirectPingReq{}
	case "ackResp":
		return &ackResp{}
	case "nackResp":
		return &nackResp{}
	case "errResp":
		return &errResp{}
	case "suspect":
		return &suspect{}
	case "alive":
		return &alive{}
	case "pushPullHeader":
		return &pushPullHeader{}
	case "userMsgHeader":
		return &userMsgHeader{}
	case "pushNodeState":
		return &pushNodeState{}
	case "compress":
		return &compress{}
	}
	return nil
}

func describe(v interface{}) (map[string]interface{}, bool) {
	out := map[string]interface{}{}
	valid := true
	rv := reflect.ValueOf(v).Elem()
	for i := 0; i < rv.NumField(); i++ {
		f := rv.Field(i)
		name := rv.Type().Field(i).Name
		switch f.Kind() {
		case reflect.Slice:
			if f.IsNil() {
				out[name] = nil
			} else {
				out[name] = hex.EncodeToString(f.Bytes())
			}
		case reflect.String:
			if !utf8.ValidString(f.String()) {
				valid = false
			}
			out[name] = hex.EncodeToString([]byte(f.String()))
		case reflect.Bool:
			out[name] = f.Bool()
		case reflect.Int, reflect.Int64:
			out[name] = fmt.Sprint(f.Int())
		default:
			out[name] = fmt.Sprint(f.Uint())
		}
	}
	return out, valid
}

func main() {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 1<<24)
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	enc := json.NewEncoder(out)
	for in.Scan() {
		parts := strings.SplitN(in.Text(), " ", 2)
		if len(parts) != 2 {
			enc.Encode(map[string]interface{}{"ok": false, "err": "bad request line"})
			continue
		}
		buf, err := hex.DecodeString(parts[1])
		if err == nil && parts[0] == "lzw" {
			r := lzw.NewReader(bytes.NewReader(buf), lzw.LSB, 8)
			var b bytes.Buffer
			if _, err := io.Copy(&b, r); err != nil {
				enc.Encode(map[string]interface{}{"ok": false, "err": err.Error()})
			} else {
				enc.Encode(map[string]interface{}{"ok": true, "v": hex.EncodeToString(b.Bytes())})
			}
			continue
		}
		v := target(parts[0])
		if err != nil || v == nil {
			enc.Encode(map[string]interface{}{"ok": false, "err": "bad request"})
			continue
		}
		res := func() (res map[string]interface{}) {
			// A decoder panic is a finding too: report it instead of dying.
			defer func() {
				if p := recover(); p != nil {
					res = map[string]interface{}{"ok": false, "err": fmt.Sprint("panic: ", p), "panic": true}
				}
			}()
			var h codec.MsgpackHandle
			if err := codec.NewDecoder(bytes.NewReader(buf), &h).Decode(v); err != nil {
				return map[string]interface{}{"ok": false, "err": err.Error()}
			}
			fields, valid := describe(v)
			return map[string]interface{}{"ok": true, "v": fields, "utf8": valid}
		}()
		enc.Encode(res)
	}
}
