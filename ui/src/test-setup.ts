// Adds jest-dom matchers (toBeInTheDocument, toHaveAttribute, …) to vitest's expect.
import '@testing-library/jest-dom/vitest';
