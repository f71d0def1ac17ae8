"""spikecut's CuPy neuron nodes against the PyTorch twin of their algorithm and against
SpikingJelly, each test twice: on CUDA through CuPy (marked gpu; skipped without CUDA
and CuPy), and on the CPU through host builds of the same kernel source, which runs the
nodes' Python side (autograd, optional arrays, state) on any machine with g++."""

import itertools
import warnings

import pytest
import torch
from spikingjelly.activation_based import functional, neuron, surrogate

from spikecut.conversion import ConvertedIFNode
from spikecut.models import build_model
from spikecut.neurons import NeuronConfig, cupy_backend, make_neuron
from spikecut.neurons.cupy_backend import CupyIFNode, CupyLIFNode, cupy_available
from spikecut.neurons.fused import reference_backward, reference_forward
from spikecut.regularisers.probe import SpikingLayerProbe
from tests.host_kernels import HAVE_GXX, use_host_kernels


@pytest.fixture(
    params=[
        pytest.param("host", marks=pytest.mark.skipif(not HAVE_GXX, reason="needs g++")),
        pytest.param(
            "cuda",
            marks=[
                pytest.mark.gpu,
                pytest.mark.skipif(not cupy_available(), reason="needs CUDA and CuPy"),
            ],
        ),
    ]
)
def device(request, monkeypatch, tmp_path):
    if request.param == "host":
        use_host_kernels(monkeypatch, tmp_path)
        return torch.device("cpu")
    return torch.device("cuda")


OPTIONS = [
    o
    for o in itertools.product(
        ("lif", "if"),
        (False, True),
        ("hard", "soft"),
        (False, True),
        ("triangle", "sigmoid", "atan"),
    )
    if o[0] == "lif" or not o[1]
]


def random_node(gen, device, kind, decay, reset, detach, surrogate_kind):
    """A node with random parameters for one option combination."""

    def uniform(lo, hi):
        return float(lo + (hi - lo) * torch.rand((), generator=gen))

    cfg = NeuronConfig(
        kind=kind,
        tau=uniform(1.2, 4.0),
        decay_input=decay,
        v_threshold=uniform(0.5, 1.5),
        v_reset=uniform(-0.3, 0.3) if reset == "hard" else None,
        surrogate=surrogate_kind,
        surrogate_width=uniform(0.5, 1.5),
        detach_reset=detach,
        backend="cupy",
    )
    node = make_neuron(cfg, device)
    if surrogate_kind != "triangle":
        alpha = uniform(1.0, 5.0)
        node.surrogate_function = (
            surrogate.Sigmoid(alpha) if surrogate_kind == "sigmoid" else surrogate.ATan(alpha)
        )
    return node.to(device)


@pytest.mark.parametrize("options", OPTIONS, ids=lambda o: "-".join(map(str, o)))
def test_fp32_matches_reference(options, device):
    gen = torch.Generator().manual_seed(OPTIONS.index(options))
    for _ in range(3):  # random shapes and parameters
        shape = (
            int(torch.randint(1, 12, (), generator=gen)),
            *torch.randint(
                1, 9, (int(torch.randint(1, 4, (), generator=gen)),), generator=gen
            ).tolist(),
        )
        x = (torch.randn(shape, generator=gen) * 1.5 + 0.5).to(device).requires_grad_(True)
        node = random_node(gen, device, *options)
        assert isinstance(node, (CupyLIFNode, CupyIFNode))
        node.store_v_seq = True
        spikes = node(x)
        v_seq = node.v_seq
        spec = node._fused_spec()
        ref_s, ref_z, ref_v = reference_forward(x.detach(), spec)
        assert torch.equal(spikes.detach(), ref_s)  # bit for bit
        assert torch.equal(v_seq.detach(), ref_v)
        grad_s, grad_v = torch.randn_like(spikes), torch.randn_like(v_seq)
        ((spikes * grad_s).sum() + (v_seq * grad_v).sum()).backward()
        want, _ = reference_backward(grad_s, grad_v, ref_z, spec)
        torch.testing.assert_close(x.grad, want, rtol=1e-5, atol=1e-6)


def test_state_and_its_gradient_carry_across_calls(device):
    torch.manual_seed(1)
    node = make_neuron(NeuronConfig(backend="cupy"), device).to(device)
    x = (torch.randn(6, 32, 5) + 0.5).to(device).requires_grad_(True)
    first = node(x[:2])
    second = node(x[2:])  # continues from the tensor state the first call left
    chunked = torch.cat([first, second])
    g = torch.randn_like(chunked)
    (chunked * g).sum().backward()
    chunked_grad, x.grad = x.grad.clone(), None
    functional.reset_net(node)
    whole = node(x)
    (whole * g).sum().backward()
    assert torch.equal(chunked, whole)
    torch.testing.assert_close(chunked_grad, x.grad, rtol=1e-5, atol=1e-6)


def test_single_step_mode_runs_the_kernel_step_by_step(device):
    torch.manual_seed(2)
    x = (torch.randn(8, 64, 10) + 0.5).to(device)
    node = make_neuron(NeuronConfig(backend="cupy"), device).to(device)
    whole = node(x)
    functional.reset_net(node)
    functional.set_step_mode(node, "s")
    with torch.no_grad():
        steps = torch.stack([node(x[t]) for t in range(8)])
    assert torch.equal(steps, whole)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_half_precision_within_its_precision(dtype, device):
    if dtype == torch.float16 and device.type == "cpu":
        pytest.skip("float16 storage converts with PTX instructions: no host build")
    torch.manual_seed(0)
    x = (torch.randn(8, 64, 32) * 1.5 + 0.5).to(device, dtype).requires_grad_(True)
    node = make_neuron(NeuronConfig(backend="cupy"), device).to(device)
    node.store_v_seq = True
    spikes = node(x)
    assert spikes.dtype == dtype and node.v_seq.dtype == dtype
    spec = node._fused_spec()
    # the membrane stays float32 inside the kernel: spikes are exact for the rounded input
    ref_s, ref_z, ref_v = reference_forward(x.detach().float(), spec)
    assert torch.equal(spikes.float(), ref_s)
    assert torch.equal(node.v_seq.float(), ref_v.to(dtype).float())
    grad_s = torch.randn_like(spikes)
    (spikes * grad_s).sum().backward()
    want, _ = reference_backward(grad_s.float(), None, ref_z.to(dtype).float(), spec)
    eps = torch.finfo(dtype).eps
    torch.testing.assert_close(x.grad.float(), want.to(dtype).float(), rtol=2 * eps, atol=2 * eps)
    # SpikingJelly keeps the membrane in half precision, so it may differ where the
    # membrane sits within rounding of the threshold: rarely
    sj = make_neuron(NeuronConfig(backend="spikingjelly"), device).to(device)
    assert (sj(x.detach()).float() != spikes.float()).float().mean() < 1e-2


def test_post_reset_membrane_for_rcs_without_a_second_pass(device):
    role = {"kind": "snn", "neuron": {"backend": "cupy"}}
    model = build_model("convsnn", (2, 8, 8), 4, role, n_steps=4, channels=[4, 8]).to(device)
    x = torch.rand(4, 3, 2, 8, 8).to(device)
    with SpikingLayerProbe(model) as probe:
        model(x)
    assert len(probe.records) == 2
    for spikes, v_seq in probe.records:
        assert v_seq.shape == spikes.shape
        # after a spike under hard reset to 0 the membrane is exactly 0
        assert torch.all(v_seq[spikes.bool()] == 0)


def test_training_step_matches_spikingjelly(device):
    x = torch.rand(4, 8, 2, 16, 16).to(device)
    grads = {}
    for backend in ("cupy", "spikingjelly"):
        torch.manual_seed(4)
        model = build_model(
            "convsnn",
            (2, 16, 16),
            5,
            {"kind": "snn", "neuron": {"backend": backend}},
            n_steps=4,
            channels=[8, 16],
        ).to(device)
        kinds = {type(m) for m in model.modules()}
        assert (CupyLIFNode in kinds) == (backend == "cupy")
        model(x).mean(0).logsumexp(1).mean().backward()
        grads[backend] = torch.cat([p.grad.flatten() for p in model.parameters()])
    torch.testing.assert_close(grads["cupy"], grads["spikingjelly"], rtol=1e-4, atol=1e-6)


def test_bf16_training_runs_the_kernels_in_bf16(device, monkeypatch):
    """Under training.precision bf16 the convolutions hand the spiking layers bfloat16,
    and the fused kernels take it as it is."""
    from spikecut.settings import TrainConfig
    from spikecut.training.loop import EpochTotals, TrainingStep, make_optimizer
    from spikecut.training.precision import Precision

    seen = []
    fused = cupy_backend.fused_multi_step

    def spy(x, *args, **kwargs):
        seen.append(x.dtype)
        return fused(x, *args, **kwargs)

    monkeypatch.setattr(cupy_backend, "fused_multi_step", spy)
    torch.manual_seed(6)
    role = {"kind": "snn", "neuron": {"backend": "cupy"}}
    model = build_model("convsnn", (2, 16, 16), 5, role, n_steps=4, channels=[8]).to(device)
    cfg = TrainConfig(precision="bf16", loss="tet")
    step = TrainingStep(
        model, make_optimizer(model, cfg), Precision("bf16", device), cfg, 0.0,
        lambda x: x.transpose(0, 1), None, torch.Generator(),
    )  # fmt: skip
    totals = EpochTotals(device)
    x, labels = torch.rand(8, 4, 2, 16, 16, device=device), torch.arange(8, device=device) % 5
    step(x, labels, 1, totals)
    assert seen and set(seen) == {torch.bfloat16}
    assert all(p.dtype == torch.float32 for p in model.parameters())
    assert totals.read()[1][0] == 0  # a finite loss


def test_converted_if_runs_the_kernel_from_half_threshold(device):
    torch.manual_seed(5)
    x = (torch.rand(16, 100) * 3).to(device)
    node = ConvertedIFNode(theta=2.0).to(device)
    plain = neuron.IFNode(v_threshold=2.0, v_reset=None, step_mode="m").to(device)
    plain.v = 1.0
    assert torch.equal(node(x), plain(x) * 2.0)


def test_unknown_surrogate_falls_back_to_spikingjelly(device):
    node = make_neuron(NeuronConfig(backend="cupy"), device).to(device)
    node.surrogate_function = surrogate.PiecewiseQuadratic()
    assert node._fused_spec() is None
    x = torch.rand(4, 10).to(device)
    ref = neuron.LIFNode(
        tau=2.0,
        decay_input=False,
        v_reset=0.0,
        step_mode="m",
        surrogate_function=surrogate.PiecewiseQuadratic(),
    ).to(device)
    assert torch.equal(node(x), ref(x))


def clear_kernel_caches(device):
    if device.type == "cuda":  # host builds are per test already
        cupy_backend._kernels.cache_clear()
    cupy_backend.kernel_problem.cache_clear()
    cupy_backend._warn_fallback.cache_clear()


@pytest.mark.parametrize(
    "fault, symptom",
    [
        (
            lambda src: src.replace("spikes[k] = save(s);", "spikes[k] = save(1.0f - s);"),
            "spikes different from the reference",
        ),
        (
            lambda src: src.replace("v_last[i] = save(v);", "v_last[i] = save(v + 0.5f);"),
            "final membrane up to 0.5 away",
        ),
        (
            lambda src: src.replace(
                "grad_x[k] = save(grad_h * ", "grad_x[k] = save(2.0f * grad_h * "
            ),
            "input gradient",
        ),
        (lambda src: src + "\nthis is not C++\n", "failed to compile or run"),
    ],
    ids=["spikes", "membrane", "gradient", "compile"],
)
def test_a_faulty_kernel_falls_back_under_auto_and_raises_under_cupy(
    device, monkeypatch, fault, symptom
):
    """The self-check on first use, with a fault injected into the kernel source (on
    the CPU, into the host build): ``auto`` warns once and runs SpikingJelly's path,
    ``cupy`` raises; both name the configuration."""
    import tests.host_kernels as host

    builder = host if device.type == "cpu" else cupy_backend
    source = builder.kernel_source
    monkeypatch.setattr(builder, "kernel_source", lambda spec, dtype: fault(source(spec, dtype)))
    clear_kernel_caches(device)
    x = (torch.randn(6, 40) + 0.6).to(device)
    auto = make_neuron(NeuronConfig(backend="auto"), device)
    assert isinstance(auto, CupyLIFNode) and not auto.strict
    with pytest.warns(
        RuntimeWarning,
        match=rf"kernel for FusedSpec\(kind='lif'.*float32.*"
        rf"{symptom}.*SpikingJelly",
    ):
        got = auto(x)
    reference = neuron.LIFNode(
        tau=2.0,
        decay_input=False,
        v_reset=0.0,
        step_mode="m",
        surrogate_function=auto.surrogate_function,
    ).to(device)
    assert torch.equal(got, reference(x))
    functional.reset_net(auto)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # one warning per configuration, not per call
        auto(x)
    strict = make_neuron(NeuronConfig(backend="cupy"), device)
    with pytest.raises(
        RuntimeError,
        match=rf"FusedSpec\(kind='lif'.*{symptom}.*"
        "neuron.backend: auto",
    ):
        strict(x)
    clear_kernel_caches(device)  # no faulty build outlives the test


@pytest.mark.skipif(not HAVE_GXX, reason="needs g++")
def test_a_sound_kernel_checks_once_and_stays_silent(monkeypatch, tmp_path):
    use_host_kernels(monkeypatch, tmp_path)
    x = torch.randn(6, 40) + 0.6
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        node = make_neuron(NeuronConfig(backend="cupy"))
        with torch.no_grad():  # a first use in inference still checks the backward pass
            node(x)
        functional.reset_net(node)
        node(x.to(torch.bfloat16))
    info = cupy_backend.kernel_problem.cache_info()
    assert info.currsize == 2 and info.misses == 2  # one check per configuration and dtype
