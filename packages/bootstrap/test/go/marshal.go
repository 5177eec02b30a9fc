// Reads a JSON array of bootstrap data documents on stdin and writes, one per line, the base64
// of what Go's encoding/json MarshalIndent makes of each, using struct definitions with the
// original prototype's field names, order and tags. The codec test compares that with ours.
package main

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"os"
)

type peer struct {
	ID        string `json:"id,omitempty"`
	Name      string `json:"name,omitempty"`
	IP        string `json:"ip,omitempty"`
	Port      string `json:"port,omitempty"`
	Protocol  string `json:"protocol,omitempty"`
	Status    string `json:"status,omitempty"`
	Timestamp string `json:"timestamp,omitempty"`
}

type config struct {
	MaxPeers            int `json:"maxpeers,omitempty"`
	MinRefillCandidates int `json:"minrefillcandidates,omitempty"`
	NumPeers            int `json:"numpeers,omitempty"`
}

type document struct {
	Config config
	Peers  map[string]*peer
}

func main() {
	var docs []document
	if err := json.NewDecoder(os.Stdin).Decode(&docs); err != nil {
		os.Stderr.WriteString(err.Error() + "\n")
		os.Exit(2)
	}
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	for _, d := range docs {
		b, err := json.MarshalIndent(d, "", "  ")
		if err != nil {
			os.Stderr.WriteString(err.Error() + "\n")
			os.Exit(2)
		}
		out.WriteString(base64.StdEncoding.EncodeToString(b) + "\n")
	}
}
