"""A client that knows nothing of the API but what server reflection says.

Uses the v1alpha reflection protocol (what Debian's gRPC 1.51 serves) with
stubs generated from grpc-proto, builds a descriptor pool from the file
descriptors the server returns (resolving their dependencies), and calls
methods with dynamic messages made from those descriptors.
"""

import grpc
from google.protobuf import descriptor_pb2
from google.protobuf import descriptor_pool
from google.protobuf import json_format
from google.protobuf import message_factory

import harness


class ReflectionError(AssertionError):
    pass


class ReflectedApi:
    """Descriptors and calls, learnt from one server's reflection service."""

    def __init__(self, channel):
        harness.generated_stubs()
        from kpi_e2e_reflection import reflection_pb2
        from kpi_e2e_reflection import reflection_pb2_grpc
        self._pb = reflection_pb2
        self._stub = reflection_pb2_grpc.ServerReflectionStub(channel)
        self._channel = channel
        self.pool = descriptor_pool.DescriptorPool()
        self._factory = message_factory.MessageFactory(self.pool)
        self._added = set()
        self.file_requests = 0

    # ---- The reflection protocol -------------------------------------------

    def _ask(self, **request):
        req = self._pb.ServerReflectionRequest(**request)
        responses = list(self._stub.ServerReflectionInfo(iter([req]),
                                                         timeout=10))
        if len(responses) != 1:
            raise ReflectionError(f"{len(responses)} responses to {request}")
        response = responses[0]
        if response.HasField("error_response"):
            err = response.error_response
            raise ReflectionError(
                f"reflection error {err.error_code}: {err.error_message} "
                f"for {request}")
        return response

    def list_services(self):
        response = self._ask(list_services="")
        return sorted(s.name for s in response.list_services_response.service)

    def _add_files(self, serialized_files):
        protos = []
        for data in serialized_files:
            proto = descriptor_pb2.FileDescriptorProto.FromString(data)
            protos.append(proto)
        by_name = {p.name: p for p in protos}
        # Add in dependency order, fetching dependencies we were not sent.
        def add(proto):
            if proto.name in self._added:
                return
            for dep in proto.dependency:
                if dep in self._added:
                    continue
                if dep not in by_name:
                    self.file_requests += 1
                    response = self._ask(file_by_filename=dep)
                    for data in (response.file_descriptor_response
                                 .file_descriptor_proto):
                        p = descriptor_pb2.FileDescriptorProto.FromString(data)
                        by_name.setdefault(p.name, p)
                    if dep not in by_name:
                        raise ReflectionError(
                            f"{proto.name} imports {dep}, which reflection "
                            f"does not return")
                add(by_name[dep])
            self.pool.Add(proto)
            self._added.add(proto.name)
        for proto in protos:
            add(proto)
        return protos

    def file_containing_symbol(self, symbol):
        """The FileDescriptorProtos returned for `symbol`, added to the pool."""
        self.file_requests += 1
        response = self._ask(file_containing_symbol=symbol)
        return self._add_files(
            response.file_descriptor_response.file_descriptor_proto)

    def file_proto(self, filename):
        """The FileDescriptorProto of `filename` as reflection returns it."""
        response = self._ask(file_by_filename=filename)
        for data in response.file_descriptor_response.file_descriptor_proto:
            proto = descriptor_pb2.FileDescriptorProto.FromString(data)
            if proto.name == filename:
                return proto
        raise ReflectionError(f"{filename} not in the reflection response")

    # ---- Descriptors and dynamic calls -------------------------------------

    def service(self, name):
        try:
            return self.pool.FindServiceByName(name)
        except KeyError:
            self.file_containing_symbol(name)
            return self.pool.FindServiceByName(name)

    def method(self, full_method):
        """'pkg.Service/Method' -> MethodDescriptor."""
        service_name, method_name = full_method.split("/")
        return self.service(service_name).methods_by_name[method_name]

    def message_class(self, descriptor):
        return self._factory.GetPrototype(descriptor)

    def message(self, full_name, value=None):
        """A dynamic message of type `full_name`, from a JSON-style dict."""
        try:
            descriptor = self.pool.FindMessageTypeByName(full_name)
        except KeyError:
            self.file_containing_symbol(full_name)
            descriptor = self.pool.FindMessageTypeByName(full_name)
        msg = self.message_class(descriptor)()
        if value is not None:
            json_format.ParseDict(value, msg)
        return msg

    def unary(self, full_method, request, timeout=10, metadata=None):
        """Calls a unary method with `request` (a dict) and returns the
        response as a dict (proto field names, defaults included)."""
        method = self.method(full_method)
        if method.client_streaming or method.server_streaming:
            raise ReflectionError(f"{full_method} is streaming")
        request_class = self.message_class(method.input_type)
        response_class = self.message_class(method.output_type)
        msg = request_class()
        json_format.ParseDict(request, msg)
        call = self._channel.unary_unary(
            f"/{full_method}",
            request_serializer=request_class.SerializeToString,
            response_deserializer=response_class.FromString)
        response = call(msg, timeout=timeout, metadata=metadata)
        return to_dict(response)

    def bidi(self, full_method, requests, timeout=30):
        """Calls a bidirectional streaming method; returns the responses."""
        method = self.method(full_method)
        request_class = self.message_class(method.input_type)
        response_class = self.message_class(method.output_type)
        msgs = []
        for request in requests:
            msg = request_class()
            json_format.ParseDict(request, msg)
            msgs.append(msg)
        call = self._channel.stream_stream(
            f"/{full_method}",
            request_serializer=request_class.SerializeToString,
            response_deserializer=response_class.FromString)
        return [to_dict(r) for r in call(iter(msgs), timeout=timeout)]


def to_dict(message):
    return json_format.MessageToDict(
        message, preserving_proto_field_name=True,
        including_default_value_fields=True)


def error_details(rpc_error):
    """(google.rpc.Status, [FieldViolation]) of a failed call, from the
    grpc-status-details-bin trailer; (None, []) without one."""
    harness.generated_stubs()
    from google.rpc import error_details_pb2
    from google.rpc import status_pb2
    for key, value in rpc_error.trailing_metadata() or ():
        if key == "grpc-status-details-bin":
            status = status_pb2.Status.FromString(value)
            violations = []
            for detail in status.details:
                bad_request = error_details_pb2.BadRequest()
                if detail.Unpack(bad_request):
                    violations.extend(bad_request.field_violations)
            return status, violations
    return None, []
