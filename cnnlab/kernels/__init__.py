"""The fast array algorithms behind convolution and pooling: pure NumPy, no autograd.

Import the modules, not their functions (`from cnnlab.kernels import im2col as k; k.im2col(...)`):
    geometry    the output-size rule and ConvGeometry, a convolution's shapes and options computed once per call
    conv        the entry points (forward, input gradient, weight gradient): pick an algorithm, run it, check inf/NaN
    registry    the algorithms, each declared once by its module (name, supports, functions, where it wins)
    select      which algorithm computes a convolution (the declared rules in rank order), select.forced for tests
    gemm        the GEMM lowering: blocks of the column matrix, one matmul each (any geometry)
    shift       shift-and-accumulate GEMM: one matmul per kernel offset, no column matrix ('shift', 'stack')
    conv1x1     an unpadded 1x1 kernel as one matmul per image on the data in place ('matmul')
    nhwc        channels-last column matrix over a chunk of images, one large matmul (small feature maps)
    winograd    F(2x2, 3x3) and F(4x4, 3x3) for 3x3 stride-1 layers ('winograd', 'winograd4')
    fft         products of spectra for large stride-1 kernels on few channels (N-d)
    depthwise   groups == in_channels as banded matmuls
    toeplitz    few input channels on a narrow 2-d map: one matmul with a banded weight matrix (LeNet-5)
    common      helpers the algorithms share: zero padding, the flipped kernel, the stride-1 input gradient
    nonfinite   inf and NaN as PyTorch: the finiteness check, a direct convolution that forms exactly PyTorch's
                products (conv recomputes a fast algorithm's non-finite result with it), `quiet` (no NumPy warnings)
    im2col      sliding windows as columns (N-d, stride, dilation, asymmetric zero padding), col2im (its adjoint),
                channels-last variants of both, output_shape
    blas        GEMM straight from NumPy's OpenBLAS (strided operands, beta accumulation)
    parallel    blocks on one Python thread per core with single-threaded BLAS
    workspace   scratch buffers reused between calls, per thread
    allocator   glibc's allocator told to keep freed memory mapped (configure(), called by cnnlab's import)
    pool, pool_adaptive   windowed max/min/sum, adaptive pooling, unpooling
    batchnorm   batch-norm statistics, output and backward in few passes
    pointwise   ReLU and its gradient in pieces on the threads
"""
