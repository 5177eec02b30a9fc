// chatjson prints what Go's encoding/json makes of the Go prototype's chat-layer types, so the
// TypeScript tests can compare byte for byte. The Member struct carries the exact field types and
// json tags of the prototype's generated chat-member.pb.go (protoc-gen-go, proto3), with the real
// protobuf Timestamp type.
//
// Input (stdin): a JSON array of cases; output (stdout): a JSON array of {"out": base64} or
// {"err": message}, one per case.
package main

import (
	"encoding/base64"
	"encoding/json"
	"os"

	"google.golang.org/protobuf/types/known/timestamppb"
)

type MessageType int32

type Member struct {
	MsgType              MessageType            `protobuf:"varint,1,opt,name=msgType,enum=chatmember.Member_MessageType" json:"msgType,omitempty"`
	Name                 string                 `protobuf:"bytes,2,opt,name=name" json:"name,omitempty"`
	Sender               string                 `protobuf:"bytes,3,opt,name=sender" json:"sender,omitempty"`
	Timestamp            *timestamppb.Timestamp `protobuf:"bytes,4,opt,name=timestamp" json:"timestamp,omitempty"`
	XXX_NoUnkeyedLiteral struct{}               `json:"-"`
	XXX_unrecognized     []byte                 `json:"-"`
	XXX_sizecache        int32                  `json:"-"`
}

type update struct {
	Action string
	Data   map[string]string
}

type tsIn struct {
	Seconds int64 `json:"seconds"`
	Nanos   int32 `json:"nanos"`
}

type memberIn struct {
	MsgType int32  `json:"msgType"`
	Name    string `json:"name"`
	Sender  string `json:"sender"`
	Ts      *tsIn  `json:"ts"`
}

type caseIn struct {
	Kind    string     `json:"kind"` // record | state | kv | decode
	Member  memberIn   `json:"member"`
	Members []memberIn `json:"members"`
	Updates []update   `json:"updates"`
	Bytes   string     `json:"bytes"` // base64, for decode: unmarshal into Member and marshal again
}

type caseOut struct {
	Out string `json:"out,omitempty"`
	Err string `json:"err,omitempty"`
}

func toMember(m memberIn) *Member {
	out := &Member{MsgType: MessageType(m.MsgType), Name: m.Name, Sender: m.Sender}
	if m.Ts != nil {
		out.Timestamp = &timestamppb.Timestamp{Seconds: m.Ts.Seconds, Nanos: m.Ts.Nanos}
	}
	return out
}

func main() {
	var cases []caseIn
	if err := json.NewDecoder(os.Stdin).Decode(&cases); err != nil {
		panic(err)
	}
	outs := make([]caseOut, 0, len(cases))
	for _, c := range cases {
		var b []byte
		var err error
		switch c.Kind {
		case "record":
			b, err = json.Marshal(toMember(c.Member))
		case "state":
			m := map[string]*Member{}
			for _, x := range c.Members {
				m[x.Name] = toMember(x)
			}
			b, err = json.Marshal(m)
		case "kv":
			var ups []*update
			for i := range c.Updates {
				ups = append(ups, &c.Updates[i])
			}
			b, err = json.Marshal(ups)
			b = append([]byte("d"), b...)
		case "decode":
			raw, _ := base64.StdEncoding.DecodeString(c.Bytes)
			var m *Member
			if err = json.Unmarshal(raw, &m); err == nil {
				b, err = json.Marshal(m)
			}
		}
		if err != nil {
			outs = append(outs, caseOut{Err: err.Error()})
		} else {
			outs = append(outs, caseOut{Out: base64.StdEncoding.EncodeToString(b)})
		}
	}
	_ = json.NewEncoder(os.Stdout).Encode(outs)
}
