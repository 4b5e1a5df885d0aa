//! Unit tests of constant folding on small hand-computed cases.

use super::*;

fn c(shape: &[usize], v: &[f32]) -> Rc<Const> {
    Rc::new(Const::f32(shape.to_vec(), v.to_vec()))
}

fn node(op: &str) -> NodeProto {
    NodeProto { op_type: Some(op.into()), ..Default::default() }
}

#[test]
fn matmul_shapes() {
    let mut b = Budget::new(1000);
    let m = matmul(&c(&[2, 3], &[1., 2., 3., 4., 5., 6.]), &c(&[3], &[1., 1., 1.]), &mut b).unwrap();
    assert_eq!(m.shape, vec![2]);
    assert_eq!(&*m.to_f32().unwrap(), &[6., 15.]);
    let d = matmul(&c(&[2], &[1., 2.]), &c(&[2], &[3., 4.]), &mut b).unwrap();
    assert_eq!(d.shape, Vec::<usize>::new());
    assert_eq!(&*d.to_f32().unwrap(), &[11.]);
    let mm = matmul(&c(&[1, 2], &[1., 2.]), &c(&[2, 2], &[1., 0., 0., 1.]), &mut b).unwrap();
    assert_eq!(mm.shape, vec![1, 2]);
}

#[test]
fn slice_negative_step_and_transpose() {
    let mut b = Budget::new(1000);
    let x = c(&[4], &[0., 1., 2., 3.]);
    let s = |v: &[i64]| Some(Rc::new(Const::i64(vec![v.len()], v.to_vec())));
    let out = slice(&[Some(x), s(&[-1]), s(&[i64::MIN]), s(&[0]), s(&[-1])], &mut b).unwrap();
    assert_eq!(&*out.to_f32().unwrap(), &[3., 2., 1., 0.]);
    let t = transpose(&c(&[2, 3], &[1., 2., 3., 4., 5., 6.]), &[1, 0], &mut b).unwrap();
    assert_eq!(t.shape, vec![3, 2]);
    assert_eq!(&*t.to_f32().unwrap(), &[1., 4., 2., 5., 3., 6.]);
}

#[test]
fn reduce_l2_keepdims() {
    let mut b = Budget::new(1000);
    let mut n = node("ReduceL2");
    n.attribute.push(crate::onnx::proto::AttributeProto {
        name: Some("keepdims".into()),
        i: Some(0),
        ..Default::default()
    });
    let out = reduce(&n, &[Some(c(&[2, 2], &[3., 4., 0., 5.])), Some(Rc::new(Const::i64(vec![1], vec![1])))], &mut b)
        .unwrap();
    assert_eq!(out.shape, vec![2]);
    assert_eq!(&*out.to_f32().unwrap(), &[5., 5.]);
}

#[test]
fn batch_marker_stops_arithmetic() {
    let mut b = Budget::new(1000);
    let shape = Rc::new(Const::i64(vec![2], vec![BATCH, 4]));
    let err = binary("Mul", &shape, &Const::i64(vec![], vec![2]), &mut b).unwrap_err();
    assert!(err.contains("batch"), "{err}");
    let g = gather(&shape, &Const::i64(vec![], vec![0]), 0, &mut b).unwrap();
    assert_eq!(&*g.to_i64().unwrap(), &[BATCH]);
}
