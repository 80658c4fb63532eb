package fakecloud

import (
	"encoding/xml"
	"fmt"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"

	"mtrlz.dev/ci-infra/internal/cloudmodel"
)

// AWSStub answers, from the fake cloud's state, the two read calls an
// operator's awscli makes that moto cannot serve here, because moto cannot
// run the Elastic CI Stack template: CloudFormation DescribeStacks and Auto
// Scaling DescribeAutoScalingGroups (query protocol, XML answers).
//
// It models what the template yields once a stack is complete: status
// CREATE_COMPLETE, the outputs Attributes gives, and an auto-scaling group
// with MinSize instances in service. Point awscli at it with
// AWS_ENDPOINT_URL_CLOUDFORMATION and AWS_ENDPOINT_URL_AUTO_SCALING.
func AWSStub(store Store, account string) http.Handler {
	if account == "" {
		account = cloudmodel.DefaultAccount
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		at := Place{Account: account, Region: regionOf(r)}
		var body any
		var err error
		switch r.Form.Get("Action") {
		case "DescribeStacks":
			body, err = describeStacks(store, at, r.Form.Get("StackName"))
		case "DescribeAutoScalingGroups":
			body, err = describeGroups(store, at, r.Form.Get("AutoScalingGroupNames.member.1"))
		default:
			err = fmt.Errorf("fakecloud AWS stub: %s is not stubbed", r.Form.Get("Action"))
		}
		if err != nil {
			w.Header().Set("Content-Type", "text/xml")
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprintf(w, `<ErrorResponse><Error><Type>Sender</Type><Code>ValidationError</Code><Message>%s</Message></Error><RequestId>stub</RequestId></ErrorResponse>`, xmlEscape(err.Error()))
			return
		}
		w.Header().Set("Content-Type", "text/xml")
		out, _ := xml.Marshal(body)
		w.Write(append([]byte(xml.Header), out...))
	})
}

var scopeRegion = regexp.MustCompile(`Credential=[^/]+/\d{8}/([a-z0-9-]+)/`)

// regionOf reads the region from the request's SigV4 credential scope.
func regionOf(r *http.Request) string {
	if m := scopeRegion.FindStringSubmatch(r.Header.Get("Authorization")); m != nil {
		return m[1]
	}
	return ""
}

type stackOutput struct {
	Key   string `xml:"OutputKey"`
	Value string `xml:"OutputValue"`
}

type stack struct {
	StackName   string        `xml:"StackName"`
	StackID     string        `xml:"StackId"`
	StackStatus string        `xml:"StackStatus"`
	Created     string        `xml:"CreationTime"`
	Outputs     []stackOutput `xml:"Outputs>member"`
}

type describeStacksResponse struct {
	XMLName   xml.Name `xml:"http://cloudformation.amazonaws.com/doc/2010-05-15/ DescribeStacksResponse"`
	Stacks    []stack  `xml:"DescribeStacksResult>Stacks>member"`
	RequestID string   `xml:"ResponseMetadata>RequestId"`
}

func describeStacks(store Store, at Place, name string) (any, error) {
	rec, ok, err := findStack(store, at, func(inputs, _ resource.PropertyMap) bool { return cloudmodel.StringInput(inputs, "name") == name })
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("Stack with id %s does not exist", name)
	}
	s := stack{StackName: name, StackID: rec.ID, StackStatus: "CREATE_COMPLETE", Created: "2026-01-01T00:00:00Z"}
	for _, k := range slices.Sorted(maps.Keys(rec.outputs)) {
		s.Outputs = append(s.Outputs, stackOutput{Key: k, Value: rec.outputs[k]})
	}
	return describeStacksResponse{Stacks: []stack{s}, RequestID: "stub"}, nil
}

type instance struct {
	ID    string `xml:"InstanceId"`
	State string `xml:"LifecycleState"`
}

type group struct {
	Name      string     `xml:"AutoScalingGroupName"`
	MinSize   int        `xml:"MinSize"`
	MaxSize   int        `xml:"MaxSize"`
	Desired   int        `xml:"DesiredCapacity"`
	Instances []instance `xml:"Instances>member"`
}

type describeGroupsResponse struct {
	XMLName   xml.Name `xml:"http://autoscaling.amazonaws.com/doc/2011-01-01/ DescribeAutoScalingGroupsResponse"`
	Groups    []group  `xml:"DescribeAutoScalingGroupsResult>AutoScalingGroups>member"`
	RequestID string   `xml:"ResponseMetadata>RequestId"`
}

func describeGroups(store Store, at Place, name string) (any, error) {
	rec, ok, err := findStack(store, at, func(_, state resource.PropertyMap) bool {
		return stringMap(state["outputs"])["AutoScalingGroupName"] == name
	})
	if err != nil {
		return nil, err
	}
	resp := describeGroupsResponse{RequestID: "stub"}
	if !ok {
		return resp, nil // AWS answers an unknown group with an empty list
	}
	minSize, _ := strconv.Atoi(rec.parameters["MinSize"])
	maxSize, _ := strconv.Atoi(rec.parameters["MaxSize"])
	g := group{Name: name, MinSize: minSize, MaxSize: maxSize, Desired: minSize}
	for i := range minSize {
		g.Instances = append(g.Instances, instance{ID: fmt.Sprintf("i-%s%d", cloudmodel.StableHash(name)[:16], i), State: "InService"})
	}
	resp.Groups = []group{g}
	return resp, nil
}

// foundStack is a stack of the fake cloud with its parameters and outputs.
type foundStack struct {
	ID                  string
	parameters, outputs map[string]string
}

func findStack(store Store, at Place, match func(inputs, state resource.PropertyMap) bool) (foundStack, bool, error) {
	all, err := store.Resources()
	if err != nil {
		return foundStack{}, false, err
	}
	for _, r := range all {
		if r.Type != "aws:cloudformation/stack:Stack" || r.Place != at {
			continue
		}
		inputs, err := r.InputMap()
		if err != nil {
			return foundStack{}, false, err
		}
		state, err := r.OutputMap()
		if err != nil {
			return foundStack{}, false, err
		}
		if match(inputs, state) {
			return foundStack{ID: r.ID, parameters: stringMap(inputs["parameters"]), outputs: stringMap(state["outputs"])}, true, nil
		}
	}
	return foundStack{}, false, nil
}

// stringMap reads an object of strings.
func stringMap(v resource.PropertyValue) map[string]string {
	out := map[string]string{}
	if v.IsObject() {
		for k, e := range v.ObjectValue() {
			if e.IsString() {
				out[string(k)] = e.StringValue()
			}
		}
	}
	return out
}

func xmlEscape(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}
