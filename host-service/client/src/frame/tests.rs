use super::*;
use std::io::Cursor;

#[test]
fn header_is_big_endian_length() {
    assert_eq!(header(0x0102_0304).unwrap(), [1, 2, 3, 4]);
    assert_eq!(body_len([0, 0, 1, 0]), 256);
    assert_eq!(body_len([0xff; 4]), 0xffff_ffff);
}

#[test]
fn frames_round_trip_in_sequence() {
    let mut wire = Vec::new();
    write_frame(&mut wire, b"first").unwrap();
    write_frame(&mut wire, b"").unwrap();
    write_frame(&mut wire, &[7u8; 300]).unwrap();
    assert_eq!(&wire[..9], b"\0\0\0\x05first");
    let mut r = Cursor::new(wire);
    assert_eq!(
        read_frame(&mut r, 1024).unwrap().unwrap().as_slice(),
        b"first"
    );
    assert_eq!(read_frame(&mut r, 1024).unwrap().unwrap().as_slice(), b"");
    assert_eq!(
        read_frame(&mut r, 1024).unwrap().unwrap().as_slice(),
        &[7u8; 300][..]
    );
    assert!(
        read_frame(&mut r, 1024).unwrap().is_none(),
        "clean end of stream"
    );
}

#[test]
fn oversize_frames_are_refused_before_reading_the_body() {
    let mut r = Cursor::new(vec![0xff, 0xff, 0xff, 0xff]);
    let err = read_frame(&mut r, 1 << 20).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::InvalidData);
}

#[test]
fn truncated_frames_are_errors() {
    let mut r = Cursor::new(vec![0, 0]);
    assert_eq!(
        read_frame(&mut r, 16).unwrap_err().kind(),
        io::ErrorKind::UnexpectedEof
    );
    let mut r = Cursor::new(vec![0, 0, 0, 8, 1, 2]);
    assert_eq!(
        read_frame(&mut r, 16).unwrap_err().kind(),
        io::ErrorKind::UnexpectedEof
    );
}

#[test]
fn encode_allocates_exactly_once() {
    let f = encode(b"abc").unwrap();
    assert_eq!(f.capacity(), 7);
    assert_eq!(f.as_slice(), b"\0\0\0\x03abc");
}
