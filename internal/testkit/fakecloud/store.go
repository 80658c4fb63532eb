package fakecloud

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"syscall"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/structpb"

	"mtrlz.dev/ci-infra/internal/cloudmodel"
)

// EnvDir names the environment variable that points the provider plugins at
// the fake cloud's state directory. Every account lives in the one
// directory, so that names the world holds once (S3 buckets) collide across
// accounts as they do in AWS.
const EnvDir = "FAKECLOUD_DIR"

// EnvAccount names the environment variable that says which AWS account the
// plugins act in: the account of the "credentials" of the run. Unset means
// cloudmodel.DefaultAccount.
const EnvAccount = "FAKECLOUD_ACCOUNT"

// Record is one resource that exists in the fake cloud.
type Record struct {
	Package string `json:"package"` // "aws" or "github"
	Type    string `json:"type"`
	ID      string `json:"id"`
	Place   Place  `json:"place"`
	// URN is the URN the resource was created under (empty for a seeded,
	// hand-made one); generated IDs derive from it.
	URN     string          `json:"urn,omitempty"`
	Inputs  json.RawMessage `json:"inputs"`
	Outputs json.RawMessage `json:"outputs"`
}

// NewRecord builds the record of a resource with the given inputs; its
// outputs are the inputs plus what the provider computes. A seeded resource
// has no URN and an explicit id.
func NewRecord(typ, urn, id string, at Place, inputs resource.PropertyMap) (Record, error) {
	id, computed := cloudmodel.Attributes(typ, urn, inputs, at, id)
	r := Record{Package: packageOf(typ), Type: typ, ID: id, Place: at, URN: urn}
	var err error
	if r.Inputs, err = encode(inputs); err != nil {
		return Record{}, err
	}
	if r.Outputs, err = encode(cloudmodel.State(inputs, computed)); err != nil {
		return Record{}, err
	}
	return r, nil
}

// InputMap and OutputMap decode the record's properties, secrets kept.
func (r Record) InputMap() (resource.PropertyMap, error)  { return decode(r.Inputs) }
func (r Record) OutputMap() (resource.PropertyMap, error) { return decode(r.Outputs) }

// claims lists the names the record holds.
func (r Record) claims() ([]claim, error) {
	inputs, err := r.InputMap()
	if err != nil {
		return nil, err
	}
	return claims(r.Type, inputs, r.Place), nil
}

// holdsIn says whether the record's hold on c reaches at: everywhere for a
// name the world holds once, else within its AWS account or organisation.
func (r Record) holdsIn(at Place, c claim) bool {
	return c.world || (r.Place.Account == at.Account && r.Place.Org == at.Org)
}

// Store is the fake cloud's state: one JSON file, read and written whole
// under an exclusive lock, since the engine runs one plugin process per
// provider and tests may seed it at the same time.
type Store struct{ Dir string }

type state struct {
	Resources []Record `json:"resources"`
}

// Seed adds resources that exist before any program runs: hand-made ones
// for adoption, or another stack's, to prove that names collide.
func (s Store) Seed(records ...Record) error {
	return s.update(func(st *state) error {
		for _, r := range records {
			if err := st.admit(r); err != nil {
				return err
			}
			st.Resources = append(st.Resources, r)
		}
		return nil
	})
}

// Replace changes a resource that exists behind its program's back, as a
// hand edit in the console would: the record of r's type, ID and place
// becomes r.
func (s Store) Replace(r Record) error {
	return s.update(func(st *state) error {
		i := st.index(r.Type, r.ID, r.Place)
		if i < 0 {
			return fmt.Errorf("%s %s does not exist", r.Type, r.ID)
		}
		st.Resources[i] = r
		return nil
	})
}

// Resources returns every resource of the fake cloud.
func (s Store) Resources() ([]Record, error) {
	var out []Record
	err := s.update(func(st *state) error {
		out = slices.Clone(st.Resources)
		return nil
	})
	return out, err
}

// Find returns the resource of the given type and ID in the account and
// region, or the organisation, of at.
func (s Store) Find(typ, id string, at Place) (Record, bool, error) {
	var found Record
	var ok bool
	err := s.update(func(st *state) error {
		if i := st.index(typ, id, at); i >= 0 {
			found, ok = st.Resources[i], true
		}
		return nil
	})
	return found, ok, err
}

// admit refuses a new resource that would take a name someone holds, or
// that exists already.
func (st *state) admit(r Record) error {
	wanted, err := r.claims()
	if err != nil {
		return err
	}
	for _, held := range st.Resources {
		heldClaims, err := held.claims()
		if err != nil {
			return err
		}
		for _, c := range wanted {
			if slices.ContainsFunc(heldClaims, func(h claim) bool { return h.kind == c.kind && h.name == c.name }) && held.holdsIn(r.Place, c) {
				return c.refusal(r.Place.Account, held.Place.Account)
			}
		}
	}
	if st.index(r.Type, r.ID, r.Place) >= 0 {
		return fmt.Errorf("%s %s already exists", r.Type, r.ID)
	}
	return nil
}

// index finds a resource by type and ID where at is: the same account and
// region (the same name in two regions is two resources), or organisation.
func (st *state) index(typ, id string, at Place) int {
	return slices.IndexFunc(st.Resources, func(r Record) bool {
		return r.Type == typ && r.ID == id && r.Place == at
	})
}

// update runs f on the state under the lock and writes it back.
func (s Store) update(f func(*state) error) error {
	if s.Dir == "" {
		return fmt.Errorf("fakecloud: no state directory; set %s", EnvDir)
	}
	if err := os.MkdirAll(s.Dir, 0o700); err != nil {
		return err
	}
	lock, err := os.OpenFile(filepath.Join(s.Dir, "lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return err
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return err
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN)

	path := filepath.Join(s.Dir, "state.json")
	var st state
	switch raw, err := os.ReadFile(path); {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return err
	default:
		if err := json.Unmarshal(raw, &st); err != nil {
			return fmt.Errorf("fakecloud: %s: %w", path, err)
		}
	}
	if err := f(&st); err != nil {
		return err
	}
	raw, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, raw, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// propertyOptions keep secrets secret in the state file, as the real
// providers' state keeps them secret in Pulumi's.
var propertyOptions = plugin.MarshalOptions{KeepSecrets: true, SkipNulls: true}

func encode(props resource.PropertyMap) (json.RawMessage, error) {
	pb, err := plugin.MarshalProperties(props, propertyOptions)
	if err != nil {
		return nil, err
	}
	return protojson.Marshal(pb)
}

func decode(raw json.RawMessage) (resource.PropertyMap, error) {
	var pb structpb.Struct
	if len(raw) > 0 {
		if err := protojson.Unmarshal(raw, &pb); err != nil {
			return nil, err
		}
	}
	return plugin.UnmarshalProperties(&pb, propertyOptions)
}

func packageOf(typ string) string {
	for i, c := range typ {
		if c == ':' {
			return typ[:i]
		}
	}
	return typ
}
