//! Every part of the speedrack.v1 contract is documented: each message, field, oneof, enum, enum
//! value, service and rpc of `speedrack.proto` carries a leading comment. The proto file is the
//! contract's reference; an undocumented field leaves a client author to guess its units, when it
//! is empty and who sets it.
//!
//! This checks that a comment exists, not what it says.

use prost_types::source_code_info::Location;
use prost_types::{DescriptorProto, EnumDescriptorProto, FileDescriptorProto};
use std::collections::HashMap;

// Field numbers of descriptor.proto, which `SourceCodeInfo` paths are made of.
const FILE_MESSAGE_TYPE: i32 = 4;
const FILE_ENUM_TYPE: i32 = 5;
const FILE_SERVICE: i32 = 6;
const MESSAGE_FIELD: i32 = 2;
const MESSAGE_NESTED_TYPE: i32 = 3;
const MESSAGE_ENUM_TYPE: i32 = 4;
const MESSAGE_ONEOF_DECL: i32 = 8;
const ENUM_VALUE: i32 = 2;
const SERVICE_METHOD: i32 = 2;

const PROTO: &str = "speedrack/v1/speedrack.proto";

#[test]
fn every_element_of_the_contract_has_a_leading_comment() {
    let file = compile_with_source_info();
    let undocumented = undocumented(&file);
    assert!(
        undocumented.is_empty(),
        "{} elements of {PROTO} have no leading comment; say what each holds (units, when it is \
         empty or absent, who sets it):\n  {}",
        undocumented.len(),
        undocumented.join("\n  ")
    );
}

fn compile_with_source_info() -> FileDescriptorProto {
    let root = env!("CARGO_MANIFEST_DIR");
    let mut compiler = protox::Compiler::new([root]).expect("the proto include dir exists");
    compiler.include_source_info(true);
    compiler.open_file(PROTO).expect("speedrack.proto compiles");
    let set = compiler.file_descriptor_set();
    set.file
        .into_iter()
        .find(|file| file.name() == PROTO)
        .expect("the set holds speedrack.proto")
}

/// The full names of the elements whose location has no leading comment.
fn undocumented(file: &FileDescriptorProto) -> Vec<String> {
    let comments: HashMap<&[i32], &Location> = file
        .source_code_info
        .as_ref()
        .expect("compiled with source info")
        .location
        .iter()
        .map(|location| (location.path.as_slice(), location))
        .collect();
    let mut walk = Walk {
        comments,
        missing: Vec::new(),
    };
    let package = file.package();
    for (i, message) in file.message_type.iter().enumerate() {
        walk.message(package, message, vec![FILE_MESSAGE_TYPE, index(i)]);
    }
    for (i, enumeration) in file.enum_type.iter().enumerate() {
        walk.enumeration(package, enumeration, vec![FILE_ENUM_TYPE, index(i)]);
    }
    for (i, service) in file.service.iter().enumerate() {
        let path = vec![FILE_SERVICE, index(i)];
        let name = format!("{package}.{}", service.name());
        walk.check(&name, &path);
        for (j, method) in service.method.iter().enumerate() {
            let method_path = child(&path, SERVICE_METHOD, j);
            walk.check(&format!("{name}.{}", method.name()), &method_path);
        }
    }
    walk.missing
}

struct Walk<'a> {
    comments: HashMap<&'a [i32], &'a Location>,
    missing: Vec<String>,
}

impl Walk<'_> {
    fn message(&mut self, scope: &str, message: &DescriptorProto, path: Vec<i32>) {
        let name = format!("{scope}.{}", message.name());
        self.check(&name, &path);
        for (i, field) in message.field.iter().enumerate() {
            let field_name = format!("{name}.{}", field.name());
            self.check(&field_name, &child(&path, MESSAGE_FIELD, i));
        }
        for (i, oneof) in message.oneof_decl.iter().enumerate() {
            // A proto3 `optional` field is a oneof of its own, documented as the field.
            let synthetic = message
                .field
                .iter()
                .any(|field| field.proto3_optional() && field.oneof_index == Some(index(i)));
            if !synthetic {
                self.check(
                    &format!("{name}.{}", oneof.name()),
                    &child(&path, MESSAGE_ONEOF_DECL, i),
                );
            }
        }
        for (i, nested) in message.nested_type.iter().enumerate() {
            self.message(&name, nested, child(&path, MESSAGE_NESTED_TYPE, i));
        }
        for (i, enumeration) in message.enum_type.iter().enumerate() {
            self.enumeration(&name, enumeration, child(&path, MESSAGE_ENUM_TYPE, i));
        }
    }

    fn enumeration(&mut self, scope: &str, enumeration: &EnumDescriptorProto, path: Vec<i32>) {
        let name = format!("{scope}.{}", enumeration.name());
        self.check(&name, &path);
        for (i, value) in enumeration.value.iter().enumerate() {
            // Enum values are scoped like their enum's siblings, as protoc names them.
            let value_name = format!("{scope}.{}", value.name());
            self.check(&value_name, &child(&path, ENUM_VALUE, i));
        }
    }

    fn check(&mut self, name: &str, path: &[i32]) {
        let documented = self
            .comments
            .get(path)
            .and_then(|location| location.leading_comments.as_deref())
            .is_some_and(|comment| !comment.trim().is_empty());
        if !documented {
            self.missing.push(name.to_owned());
        }
    }
}

fn child(parent: &[i32], kind: i32, i: usize) -> Vec<i32> {
    let mut path = parent.to_vec();
    path.extend([kind, index(i)]);
    path
}

fn index(i: usize) -> i32 {
    i32::try_from(i).expect("a proto file has fewer than 2^31 elements of a kind")
}
