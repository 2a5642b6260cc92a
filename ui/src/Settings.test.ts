import { render, screen } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import SettingsCard from './components/SettingsCard.svelte';
import { createFakeBackend } from './lib/backend/fake';

describe('Settings', () => {
  it('start at login reflects the host and toggles through the backend', async () => {
    const backend = createFakeBackend('ada', { stepMs: 0 });
    const set = vi.spyOn(backend, 'setAutostart');
    render(SettingsCard, { backend });
    const box = await screen.findByRole('checkbox', { name: 'Start Lanyard when I log in' });
    expect(box).not.toBeChecked();
    await userEvent.click(box);
    expect(set).toHaveBeenCalledWith(true);
    expect(await screen.findByRole('checkbox', { name: 'Start Lanyard when I log in' })).toBeChecked();
    expect(screen.getByText(/15 min before your company sign-in ends/)).toBeInTheDocument();
  });

  it('a failure is shown and the box keeps the real value', async () => {
    const backend = createFakeBackend('ada', { stepMs: 0 });
    vi.spyOn(backend, 'setAutostart').mockRejectedValue({ code: 'internal', message: 'Could not change start-at-login' });
    render(SettingsCard, { backend });
    const box = await screen.findByRole('checkbox', { name: 'Start Lanyard when I log in' });
    await userEvent.click(box);
    expect(await screen.findByRole('alert')).toHaveTextContent('Could not change start-at-login');
    expect(box).not.toBeChecked();
  });
});
