import pytest
import torch
from spikingjelly.activation_based import functional, neuron

from spikecut.neurons import NeuronConfig, Triangle, make_neuron, make_surrogate, resolve_backend
from spikecut.neurons.cupy_backend import cupy_available
from spikecut.regularisers.probe import SpikingLayerProbe


def brute_lif(x, tau, v_th, v_reset, decay_input):
    v = torch.full_like(x[0], 0.0 if v_reset is None else v_reset)
    spikes, mems = [], []
    for t in range(x.shape[0]):
        vr = 0.0 if v_reset is None else v_reset
        if decay_input:
            h = v + (x[t] - (v - vr)) / tau
        else:
            h = v - (v - vr) / tau + x[t]
        s = (h >= v_th).float()
        v = h - s * v_th if v_reset is None else h * (1 - s) + s * v_reset
        spikes.append(s)
        mems.append(v)
    return torch.stack(spikes), torch.stack(mems)


@pytest.mark.parametrize("v_reset", [0.0, None])
@pytest.mark.parametrize("decay_input", [False, True])
def test_lif_matches_recurrence(v_reset, decay_input):
    torch.manual_seed(0)
    x = torch.randn(6, 4, 7) * 1.5
    cfg = NeuronConfig(v_reset=v_reset, decay_input=decay_input)
    node = make_neuron(cfg)
    with SpikingLayerProbe(node) as probe:
        out = node(x)
    spikes, mems = probe.pop()[0]
    want_s, want_u = brute_lif(x, 2.0, 1.0, v_reset, decay_input)
    assert torch.equal(out, want_s) and torch.equal(spikes, want_s)
    torch.testing.assert_close(mems, want_u)
    assert node.step_mode == "m" and not node.store_v_seq  # probe restored it


def test_paper_lif_halves_membrane():
    node = make_neuron(NeuronConfig())
    out = node(torch.tensor([[0.6], [0.6], [0.0]]))
    # u: 0.6 -> 0.3 + 0.6 = 0.9 -> 0.45: never reaches 1
    assert out.sum() == 0
    functional.reset_net(node)
    assert node(torch.tensor([[0.8], [0.8]])).flatten().tolist() == [0.0, 1.0]


def test_triangle_surrogate_gradient():
    node = make_neuron(NeuronConfig())
    x = torch.tensor([[0.0, 0.5, 1.0, 1.5, 2.5]], requires_grad=True)
    node(x).sum().backward()
    # h = x at t=1; d spike / dx = max(0, 1 - |x - 1|)
    torch.testing.assert_close(x.grad, torch.tensor([[0.0, 0.5, 1.0, 0.5, 0.0]]))


def test_triangle_width_and_primitive():
    tri = Triangle(width=2.0, spiking=False)
    y = tri(torch.tensor([-3.0, 0.0, 3.0]))
    torch.testing.assert_close(y, torch.tensor([0.0, 0.5, 1.0]))
    with pytest.raises(ValueError, match="width"):
        Triangle(width=0)


def test_factory_builds_if_and_rejects_bad_options():
    assert isinstance(make_neuron(NeuronConfig(kind="if")), neuron.IFNode)
    with pytest.raises(ValueError, match="kind"):
        make_neuron(NeuronConfig(kind="izhikevich"))
    with pytest.raises(ValueError, match="surrogate"):
        make_surrogate("gaussian")
    with pytest.raises(ValueError, match="backend"):
        make_neuron(NeuronConfig(backend="loihi"))


def test_auto_backend_resolves_per_device():
    if cupy_available():
        assert resolve_backend("auto", "cpu") == "cupy"
    else:
        assert resolve_backend("auto", "cpu") == "torch"
        assert resolve_backend("auto", "cuda") == "spikingjelly"
    assert resolve_backend("torch", "cuda") == "torch"


@pytest.mark.skipif(cupy_available(), reason="checks the message on machines without CuPy")
def test_cupy_backend_without_cuda_says_so():
    with pytest.raises(RuntimeError, match="'cupy' needs a CUDA device and the cupy package"):
        make_neuron(NeuronConfig(backend="cupy"))


@pytest.mark.gpu
def test_lif_on_cuda_matches_cpu():
    torch.manual_seed(0)
    x = torch.randn(5, 8, 16)
    cpu = make_neuron(NeuronConfig())(x)
    gpu = make_neuron(NeuronConfig(), device="cuda").cuda()(x.cuda())
    assert torch.equal(cpu, gpu.cpu())
